import { readFile } from "node:fs/promises";
import { join } from "node:path";

export { cgroupDirs, fileAppears, launcherPids, mountsMentioning, processesOfUid } from "@jobworker/testkit/host";

/** A job's internal record (the stress suite peeks at it to find the launcher to kill). */
export async function jobRecord(stateDir: string, id: string): Promise<{ uid: number; launcher?: { pid: number } }> {
  return JSON.parse(await readFile(join(stateDir, "jobs", id, "record.json"), "utf8"));
}
