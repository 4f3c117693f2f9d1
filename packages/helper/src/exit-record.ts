import { readFileSync } from "node:fs";
import { join } from "node:path";

/** How the job's main process ended, as the launcher recorded it. */
export type ExitRecord =
  | { kind: "exited"; exitCode: number }
  /** `statusKnown` is false when the init was killed before it could report (a forced stop). */
  | { kind: "signaled"; signal: number; statusKnown: boolean };

/** File name of the record the launcher writes atomically into the job dir. */
export const EXIT_RECORD_FILE = "exit.json";

/** Reads the launcher's exit record, or undefined when it has not been written (yet). */
export async function readExitRecord(jobDir: string): Promise<ExitRecord | undefined> {
  let text: string;
  try {
    text = readFileSync(join(jobDir, EXIT_RECORD_FILE), "utf8"); // a few bytes, read once per job
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const parsed: { exitCode?: unknown; signal?: unknown; statusKnown?: unknown } = JSON.parse(text);
  if (typeof parsed.exitCode === "number") return { kind: "exited", exitCode: parsed.exitCode };
  if (typeof parsed.signal === "number") {
    return { kind: "signaled", signal: parsed.signal, statusKnown: parsed.statusKnown !== false };
  }
  throw new Error(`malformed exit record in ${jobDir}: ${text}`);
}
