import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ServerProcess } from "@jobworker/testkit";

const runjobBin = fileURLToPath(new URL("../../bin/run.js", import.meta.url));
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
