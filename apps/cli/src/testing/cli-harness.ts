import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, rm, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { writeDevPki } from "@jobworker/dev-pki";

const runjobBin = fileURLToPath(new URL("../../bin/run.js", import.meta.url));
const serverBin = fileURLToPath(new URL("../../../server/bin/jobworker-server.js", import.meta.url));

/** A real jobworker-server process with a fresh dev PKI, for CLI end-to-end tests. */
export interface ServerProcess {
  port: number;
  certs: string;
  child: ChildProcess;
  stateDir: string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

export async function startServerProcess(): Promise<ServerProcess> {
  const certs = await mkdtemp("/var/tmp/jobworker-test-certs-");
  await writeDevPki(certs);
  const stateDir = await mkdtemp("/var/tmp/jobworker-test-state-");
  const cgroupParent = `jobworker-test-cli-${process.pid}`;
  const child = spawn(
    process.execPath,
    [
      serverBin,
      ...["--listen", "127.0.0.1:0", "--metrics-listen", ""],
      ...[
        "--tls-cert",
        join(certs, "server.crt"),
        "--tls-key",
        join(certs, "server.key"),
        "--client-ca",
        join(certs, "ca.crt"),
      ],
      ...["--state-dir", stateDir, "--cgroup-parent", `jobworker-test-cli-${process.pid}`, "--grace-period-ms", "2000"],
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let port = 0;
  for await (const line of createInterface({ input: child.stdout! })) {
    const entry = JSON.parse(line) as { msg?: string; listen?: { port: number } };
    if (entry.msg === "jobworker-server ready" && entry.listen) {
      port = entry.listen.port;
      break;
    }
  }
  if (!port) throw new Error("jobworker-server exited before it was ready");
  child.stdout?.resume(); // keep draining its log
  return {
    port,
    certs,
    child,
    stateDir,
    async stop() {
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const [code] = await exited;
      await rm(certs, { recursive: true, force: true });
      await rm(stateDir, { recursive: true, force: true });
      // A server keeps its cgroup parent (the next one re-adopts jobs there); the test owns this one.
      for (const hierarchy of await readdir("/sys/fs/cgroup")) {
        await rmdir(join("/sys/fs/cgroup", hierarchy, cgroupParent)).catch(() => {});
      }
      return code as number | null;
    },
  };
}

/** What a runjob invocation produced. */
export interface CliResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs the real runjob CLI as a separate process, connected to `server` as `identity` (default alice). */
export function runjob(
  server: ServerProcess,
  args: string[],
  options: { identity?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const identity = options.identity ?? "alice";
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RUNJOB_SERVER: `localhost:${server.port}`,
    RUNJOB_CERT: join(server.certs, `${identity}.crt`),
    RUNJOB_KEY: join(server.certs, `${identity}.key`),
    RUNJOB_CA: join(server.certs, "ca.crt"),
    ...options.env,
  };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [runjobBin, ...args],
      { env, encoding: "buffer", maxBuffer: 64 * 2 ** 20 },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === "number" ? error.code : 0;
        resolve({ code, stdout, stderr: stderr.toString() });
      },
    );
  });
}
