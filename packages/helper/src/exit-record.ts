import { readFileSync } from "node:fs";
import { join } from "node:path";

/** How the job's main process ended, as the launcher recorded it. */
export type ExitRecord = (
  | { kind: "exited"; exitCode: number }
  /** `statusKnown` is false when the init was killed before it could report (a forced stop). */
  | { kind: "signaled"; signal: number; statusKnown: boolean }
) & {
  /** The job's cgroup as the launcher left it, when it created it (LaunchSpec.cgroupReads). */
  cgroup?: RecordedCgroup;
};

/** What a launcher read of the cgroup it created once the job was gone, and what it removed then. */
export interface RecordedCgroup {
  /** The contents of the files it was asked to read, by path. */
  files: Record<string, string>;
  /**
   * True when its v1 directories are gone. The unified one is left to the
   * server, which may be watching its cgroup.events: a removal can beat the
   * kernel's deferred notice of the cgroup emptying, which then never comes.
   */
  v1Removed: boolean;
}

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
  // The record is the first line; until the launcher trims the file, the launch record's line follows it.
  const firstLine = text.slice(0, text.indexOf("\n") + 1 || undefined);
  const parsed: { exitCode?: unknown; signal?: unknown; statusKnown?: unknown } = JSON.parse(firstLine);
  const cgroup = recordedCgroup(text);
  if (typeof parsed.exitCode === "number")
    return { kind: "exited", exitCode: parsed.exitCode, ...(cgroup && { cgroup }) };
  if (typeof parsed.signal === "number") {
    return {
      kind: "signaled",
      signal: parsed.signal,
      statusKnown: parsed.statusKnown !== false,
      ...(cgroup && { cgroup }),
    };
  }
  throw new Error(`malformed exit record in ${jobDir}: ${text}`);
}

/** The launcher's cgroup line of an exit record, when it wrote one whole. */
function recordedCgroup(text: string): RecordedCgroup | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith('{"cgroupFiles"'));
  if (!line) return undefined;
  try {
    const { cgroupFiles, v1Removed } = JSON.parse(line);
    if (typeof cgroupFiles !== "object" || cgroupFiles === null) return undefined;
    if (!Object.values(cgroupFiles).every((content) => typeof content === "string")) return undefined;
    return { files: cgroupFiles, v1Removed: v1Removed === true };
  } catch {
    return undefined; // damaged: the server reads the cgroup itself
  }
}

/** What a launcher records of itself at start (kept next to the job's exit record once that is written). */
export interface LaunchRecord {
  /** The launcher's pid and start time (field 22 of /proc/<pid>/stat): together they name it, even after pid reuse. */
  launcher: { pid: number; startTime: string };
  /** Epoch milliseconds, just before the job's init was cloned. */
  startedAt: number;
}

/**
 * The launcher's own record of a job it started, or undefined when there is
 * none (the launch never got that far): a line of exit.json.tmp from the
 * start (see launcher.c), kept in exit.json once the exit record is written.
 */
export function readLaunchRecord(jobDir: string): LaunchRecord | undefined {
  for (const file of [`${EXIT_RECORD_FILE}.tmp`, EXIT_RECORD_FILE]) {
    let text: string;
    try {
      text = readFileSync(join(jobDir, file), "utf8");
    } catch {
      continue; // not there (yet, or any more: it was renamed meanwhile)
    }
    const line = text.split("\n").find((candidate) => candidate.startsWith('{"launcherPid"'));
    try {
      const { launcherPid, launcherStartTime, startedAt } = JSON.parse(line ?? "");
      if (typeof launcherPid !== "number" || typeof launcherStartTime !== "string" || !launcherStartTime) continue;
      if (typeof startedAt !== "number") continue;
      return { launcher: { pid: launcherPid, startTime: launcherStartTime }, startedAt };
    } catch {
      // not a launch record: a launcher from before launch records, or a damaged file
    }
  }
  return undefined;
}
