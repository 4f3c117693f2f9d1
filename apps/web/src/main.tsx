import "@xterm/xterm/css/xterm.css";
import "./styles.css";
import { options, render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { createPageClient } from "./api.js";
import { JobPage } from "./job-page.js";
import { JobsPage } from "./jobs-page.js";
import { StartForm } from "./start-form.js";

// At most one render per animation frame, however fast events and samples arrive.
options.debounceRendering = (render) => requestAnimationFrame(render);

/** The route from the hash: #/ (jobs), #/jobs/ID, #/start. The query keeps the token. */
function currentRoute(): string {
  return location.hash.replace(/^#/, "") || "/";
}

function App() {
  const client = useMemo(() => createPageClient(), []);
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const onChange = () => setRoute(currentRoute());
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  const jobId = /^\/jobs\/([^/]+)$/.exec(route)?.[1];
  return (
    <>
      <header class="top">
        <a href="#/" class="brand">
          runjob
        </a>
        <nav>
          <a href="#/">Jobs</a>
          <a href="#/start" class="button">
            Start a job
          </a>
        </nav>
      </header>
      <main>
        {jobId ? (
          <JobPage key={jobId} client={client} id={decodeURIComponent(jobId)} />
        ) : route === "/start" ? (
          <StartForm client={client} />
        ) : (
          <JobsPage client={client} />
        )}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app") as HTMLElement);
