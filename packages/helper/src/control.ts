import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";

/** What the launcher can be asked to do: forward SIGTERM to the job, or SIGKILL its whole namespace. */
export type ControlRequest = "term" | "kill";

/**
 * Asks a job's launcher to signal the job, through the job dir's control FIFO.
 * No pid is involved, so a reused pid can never be hit. Resolves false when no
 * launcher is listening (it has exited), true when the request was delivered.
 */
export async function sendControl(jobDir: string, request: ControlRequest): Promise<boolean> {
  let handle: import("node:fs/promises").FileHandle;
  try {
    // Non-blocking: opening a FIFO for writing with no reader fails with ENXIO instead of hanging.
    handle = await open(join(jobDir, "control"), constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENXIO" || code === "ENOENT") return false;
    throw error;
  }
  try {
    await handle.write(`${request}\n`);
    return true;
  } finally {
    await handle.close();
  }
}
