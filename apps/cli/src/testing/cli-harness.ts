import { type ChildProcessByStdio, type ExecFileException, execFile, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { ServerProcess } from "@jobworker/testkit";

/** The runjob entry point, for tests that run it through a shell. */
export const runjobPath = fileURLToPath(new URL("../../bin/run.js", import.meta.url));

/** What the harness needs of a server: where it listens and where its dev PKI is. */
export type ServerAddress = Pick<ServerProcess, "port" | "certs">;

/** What a runjob invocation produced. */
export interface CliResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function connectionEnv(
  server: ServerAddress,
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

/**
 * Settles a finished process as a CliResult. Only an exit is a result: a
 * process killed by a signal, or one that could not run or overflowed its
 * buffer, rejects, so a crash can never pass for exit 0.
 */
function settle(
  resolve: (result: CliResult) => void,
  reject: (error: Error) => void,
): (error: ExecFileException | null, stdout: Buffer, stderr: Buffer) => void {
  return (error, stdout, stderr) => {
    if (!error) return resolve({ code: 0, stdout, stderr: stderr.toString() });
    if (typeof error.code === "number") return resolve({ code: error.code, stdout, stderr: stderr.toString() });
    const why = error.signal ? `was killed by ${error.signal}` : `failed: ${error.message}`;
    reject(new Error(`${error.cmd ?? "the process"} ${why}; stderr: ${stderr.toString()}`));
  };
}

/** Runs the real runjob CLI as a separate process, connected to `server` as `identity` (default alice). */
export function runjob(
  server: ServerAddress,
  args: string[],
  options: { identity?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliResult> {
  const env = connectionEnv(server, options);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [runjobPath, ...args],
      { env, encoding: "buffer", maxBuffer: 64 * 2 ** 20, cwd: options.cwd },
      settle(resolve, reject),
    );
  });
}

/** The environment of a shell that runs `node runjob`: the connection settings, and this Node first in PATH. */
export function shellEnv(server: ServerAddress): NodeJS.ProcessEnv {
  return { ...connectionEnv(server, {}), PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
}

/** Runs a shell command line (for pipes) with runjob's connection settings in the environment. */
export function runShell(server: ServerAddress, script: string): Promise<CliResult> {
  const env = shellEnv(server);
  return new Promise((resolve, reject) => {
    execFile("/bin/sh", ["-c", script], { env, encoding: "buffer" }, settle(resolve, reject));
  });
}

/** Starts runjob without waiting for it, for tests that signal it. */
export function spawnRunjob(server: ServerAddress, args: string[]): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(process.execPath, [runjobPath, ...args], {
    env: connectionEnv(server, {}),
    stdio: ["ignore", "pipe", "pipe"],
  });
}
