import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { readLaunchRecord } from "@jobworker/helper";

export { cgroupDirs, fileAppears, launcherPids, mountsMentioning, processesOfUid } from "@jobworker/testkit/host";

/** A job's internal record (the stress suite peeks at it to find the launcher to kill). */
export async function jobRecord(stateDir: string, id: string): Promise<{ uid: number; launcher?: { pid: number } }> {
  const record = JSON.parse(await readFile(join(stateDir, "jobs", id, "record.json"), "utf8"));
  // A running job's record is saved as starting; its launcher names itself in its launch record.
  return { ...record, launcher: record.launcher ?? readLaunchRecord(join(stateDir, "jobs", id))?.launcher };
}
