import { readFileSync } from "node:fs";

/**
 * A process's start time (field 22 of /proc/<pid>/stat, in clock ticks since
 * boot). With the pid, it names a process uniquely: a reused pid has another.
 */
export async function processStartTime(pid: number): Promise<string | undefined> {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8"); // procfs: answered from kernel memory
    // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

/** True when the process that had `startTime` is still alive. */
export async function isSameProcessAlive(identity: { pid: number; startTime: string }): Promise<boolean> {
  return (await processStartTime(identity.pid)) === identity.startTime;
}
