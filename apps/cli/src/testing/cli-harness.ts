import { type ChildProcessByStdio, execFile, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { ServerProcess } from "@jobworker/testkit";

/** The runjob entry point, for tests that run it through a shell. */
export const runjobPath = fileURLToPath(new URL("../../bin/run.js", import.meta.url));

/** What a runjob invocation produced. */
export interface CliResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function connectionEnv(
  server: ServerProcess,
  options: { identity?: string; env?: NodeJS.ProcessEnv },
): NodeJS.ProcessEnv {
  const identity = options.identity ?? "alice";
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RUNJOB_SERVER: `localhost:${server.port}`,
    RUNJOB_CERT: join(server.certs, `${identity}.crt`),
    RUNJOB_KEY: join(server.certs, `${identity}.key`),
    RUNJOB_CA: join(server.certs, "ca.crt"),
    ...options.env,
  };
}

/** Runs the real runjob CLI as a separate process, connected to `server` as `identity` (default alice). */
export function runjob(
  server: ServerProcess,
  args: string[],
  options: { identity?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const env = connectionEnv(server, options);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [runjobPath, ...args],
      { env, encoding: "buffer", maxBuffer: 64 * 2 ** 20 },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === "number" ? error.code : 0;
        resolve({ code, stdout, stderr: stderr.toString() });
      },
    );
  });
}

/** Runs a shell command line (for pipes) with runjob's connection settings in the environment. */
export function runShell(server: ServerProcess, script: string): Promise<CliResult> {
  const env = { ...connectionEnv(server, {}), PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
  return new Promise((resolve) => {
    execFile("/bin/sh", ["-c", script], { env, encoding: "buffer" }, (error, stdout, stderr) => {
      const code = error && typeof error.code === "number" ? error.code : 0;
      resolve({ code, stdout, stderr: stderr.toString() });
    });
  });
}

/** Starts runjob without waiting for it, for tests that signal it. */
export function spawnRunjob(server: ServerProcess, args: string[]): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(process.execPath, [runjobPath, ...args], {
    env: connectionEnv(server, {}),
    stdio: ["ignore", "pipe", "pipe"],
  });
}
