// The Quick start's demo: starts jobworker-server on a free port with the dev
// certificates, runs one isolated job through the runjob CLI, shows its output
// and status, saves the dev server as runjob's context `local` (unless there is
// one), then shuts the server down.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdirSync } from "node:fs";
import { createInterface } from "node:readline";

const stateDir = "/var/lib/jobworker-demo";
mkdirSync(stateDir, { recursive: true, mode: 0o700 });

const server = spawn(
  "node_modules/.bin/jobworker-server",
  ["--listen", "127.0.0.1:0", "--metrics-listen", "", "--state-dir", stateDir],
  { stdio: ["ignore", "pipe", "inherit"] },
);
try {
  const port = await readyPort(server);
  const runjob = (...args: string[]) => {
    console.log(`\n$ runjob ${args.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg}'`)).join(" ")}`);
    const env = { ...process.env, RUNJOB_SERVER: `localhost:${port}` };
    const result = spawnSync("node_modules/.bin/runjob", args, { stdio: "inherit", env });
    return result.status;
  };
  const code = runjob(
    "start",
    "--follow",
    "--memory",
    "64MiB",
    "--cpu",
    "500m",
    "--",
    "/bin/sh",
    "-c",
    "echo hello from $(hostname) as uid $(id -u); ps -e",
  );
  console.log(`(exit code ${code})`);
  runjob("list");
  runjob("clean");
  addLocalContext(runjob);
} finally {
  server.kill("SIGTERM");
  await once(server, "exit");
}

/**
 * Saves the dev server (localhost:8443, as `jobworker-server` listens by
 * default) and alice's certificates as the context `local`, unless it exists:
 * then `runjob` works from any directory on this host.
 */
function addLocalContext(runjob: (...args: string[]) => number | null): void {
  const listed = spawnSync("node_modules/.bin/runjob", ["context", "ls", "--json"], { encoding: "utf8" });
  const names = listed.status === 0 ? (JSON.parse(listed.stdout) as { name: string }[]).map((c) => c.name) : [];
  if (names.includes("local")) return;
  const certs = ["--cert", "certs/alice.crt", "--key", "certs/alice.key", "--ca", "certs/ca.crt"];
  runjob("context", "add", "local", "--server", "localhost:8443", ...certs);
}

/** Waits for the server's "ready" log line and returns the port it listens on. */
async function readyPort(child: ChildProcess): Promise<number> {
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const entry = JSON.parse(line) as { msg?: string; listen?: { port: number } };
    if (entry.msg === "jobworker-server ready" && entry.listen) return entry.listen.port;
  }
  throw new Error("jobworker-server exited before it was ready");
}
