import { useState } from "preact/hooks";
import type { JobClient } from "./api.js";
import { parseBytes, parsePairs } from "./format.js";
import { Problem } from "./problem.js";

/** Starts a job from a form and opens its page. */
export function StartForm({ client }: { client: JobClient }) {
  const [problem, setProblem] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const text = (name: string) => String(form.get(name) ?? "");
    setProblem(undefined);
    try {
      const cpu = text("cpu").trim();
      const pids = text("pids").trim();
      const runtime = text("runtime").trim();
      const interactive = form.get("interactive") === "on";
      const request = {
        command: text("command").trim(),
        // One argument a line: nothing is split or quoted behind your back (there is no shell).
        args: text("args")
          .split("\n")
          .map((line) => line.replace(/\r$/, ""))
          .filter((line, index, all) => line !== "" || index < all.length - 1),
        env: parsePairs(text("env"), "environment variable"),
        labels: parsePairs(text("labels"), "label"),
        name: text("name").trim(),
        limits: {
          cpuMillicores: cpu ? Math.round(Number(cpu) * 1000) : undefined,
          memoryBytes: parseBytes(text("memory")),
          diskBytes: parseBytes(text("disk")),
          maxPids: pids ? Number(pids) : undefined,
        },
        maxRuntime: runtime ? { seconds: BigInt(Math.round(Number(runtime))) } : undefined,
        stdin: interactive,
        tty: interactive,
        terminalSize: interactive ? { rows: 30, columns: 100 } : undefined,
      };
      if (cpu && !(Number(cpu) > 0)) throw new Error(`CPU "${cpu}" is not a number of cores: write e.g. 0.5`);
      setBusy(true);
      const { job } = await client.startJob(request);
      if (job) location.hash = `#/jobs/${job.id}`;
    } catch (error) {
      setProblem(error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <h1>Start a job</h1>
      <form class="start" onSubmit={submit}>
        <label>
          Command <input name="command" required placeholder="/bin/sh" />
        </label>
        <label>
          Arguments, one a line <textarea name="args" rows={3} placeholder={"-c\necho hello"} />
        </label>
        <label>
          Name <input name="name" placeholder="optional, unique among your jobs" />
        </label>
        <label>
          Labels <input name="labels" placeholder="team=infra, tier=batch" />
        </label>
        <label>
          Environment, KEY=VALUE a line <textarea name="env" rows={2} />
        </label>
        <fieldset>
          <legend>Limits (empty: the server's default)</legend>
          <label>
            CPU cores <input name="cpu" inputMode="decimal" placeholder="0.5" />
          </label>
          <label>
            Memory <input name="memory" placeholder="256M" />
          </label>
          <label>
            Disk <input name="disk" placeholder="1G" />
          </label>
          <label>
            Processes <input name="pids" inputMode="numeric" placeholder="64" />
          </label>
          <label>
            Max runtime, seconds <input name="runtime" inputMode="numeric" />
          </label>
        </fieldset>
        <label class="check">
          <input type="checkbox" name="interactive" /> Interactive: give it a terminal to type into
        </label>
        <button type="submit" disabled={busy}>
          Start
        </button>
      </form>
      <Problem error={problem} />
    </section>
  );
}
