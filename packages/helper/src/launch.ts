import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { LaunchError } from "./launch-error.js";
import { type LaunchSpec, toLauncherArgs } from "./launch-spec.js";

/** Path of the compiled launcher binary (built by this package's build step). */
export const launcherPath = fileURLToPath(new URL("../dist/jobworker-launcher", import.meta.url));

/** A job whose program is running. */
export interface LaunchedJob {
  /** Pid of the job's init as the host sees it. For diagnostics only: never signal it. */
  initPid: number;
  /** Pid of the outer launcher, which owns the job and writes its exit record. */
  launcherPid: number;
  /** Resolves once the outer launcher has exited, after writing the exit record. */
  launcherExited: Promise<void>;
}

/**
 * Starts a job through the launcher. Resolves once the job's program has been
 * exec'd; rejects with a LaunchError when a set-up step or the exec fails,
 * once the launcher has exited (so nothing writes to the job dir any more).
 */
export async function launch(spec: LaunchSpec): Promise<LaunchedJob> {
  // The launcher's own diagnostics go to a file: it outlives the caller.
  const diagnostics = openSync(join(spec.jobDir, "launcher.log"), "a", 0o600);
  let child: ChildProcess;
  try {
    child = spawn(launcherPath, toLauncherArgs(spec), {
      env: spec.env,
      stdio: ["ignore", "ignore", diagnostics, "pipe"],
      detached: true,
    });
  } finally {
    closeSync(diagnostics);
  }
  const launcherExited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // The launcher is in its own session and must not keep the caller's event loop alive.
  child.unref();
  const line = await readHandshake(child);
  const [word, first, second] = line.trim().split(" ");
  if (word === "started" && first) {
    return { initPid: Number(first), launcherPid: child.pid ?? 0, launcherExited };
  }
  // A failed start still has a launcher winding down in the job dir: let it finish before the caller cleans up.
  await launcherExited;
  if (word === "error" && first && second) throw new LaunchError(Number(first), Number(second));
  throw new Error(`launcher gave no handshake (got ${JSON.stringify(line)}); see launcher.log`);
}

function readHandshake(child: ChildProcess): Promise<string> {
  const pipe = child.stdio[3] as Readable;
  return new Promise((resolve, reject) => {
    let text = "";
    pipe.setEncoding("utf8");
    pipe.on("data", (chunk: string) => {
      text += chunk;
    });
    pipe.once("close", () => resolve(text));
    pipe.once("error", reject);
    child.once("error", reject);
  });
}
