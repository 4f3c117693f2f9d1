import { readLaunchRecord } from "@jobworker/helper";
import type { CgroupRoot } from "./cgroups/cgroup-root.js";
import { isSameProcessAlive } from "./lifecycle/process-identity.js";
import type { ManagedJob } from "./managed-job.js";
import type { StoredJob } from "./state-store.js";
import type { JobSupervisor } from "./supervision/supervisor.js";

/** What recovery needs from the manager. */
export interface RecoveryContext {
  cgroups: CgroupRoot;
  supervisor: JobSupervisor;
  /** Registers a job found on disk (and claims its uid while it is active). */
  register(record: StoredJob): ManagedJob;
  /** Where a job's files are (its launcher's launch record among them). */
  jobDir(id: string): string;
  onWarning(message: string): void;
}

/**
 * Takes over what an earlier run left: every record is registered; a job whose
 * launcher (pid and start time) is alive is re-adopted; one whose launcher is
 * gone ends from its exit record, or as lost; a job recorded as "starting"
 * whose launcher started it (its launch record says so) is running, as far as
 * recovery goes (the manager records a start only once, see JobManager.start);
 * one it never started was being launched when the server stopped, and ends
 * as lost with whatever it started killed; a job cgroup no record accounts for
 * is killed and removed.
 */
export async function recoverJobs(context: RecoveryContext, records: readonly StoredJob[]): Promise<void> {
  const { cgroups, supervisor, register, onWarning, jobDir } = context;
  const active = new Set<string>();
  for (const found of records) {
    const record = found.state === "starting" ? launchedFrom(found, jobDir(found.id)) : found;
    const job = register(record);
    if (record.state === "ended") continue;
    job.useCgroup(cgroups.attach(record.id));
    if (record.state === "starting") {
      await supervisor.settle(job, "the server stopped while starting it");
    } else if (record.launcher && (await isSameProcessAlive(record.launcher))) {
      supervisor.adopt(job);
      active.add(record.id);
    } else {
      await supervisor.settle(job);
    }
  }
  for (const id of await cgroups.list()) {
    if (active.has(id)) continue;
    const orphan = cgroups.attach(id);
    await orphan.kill();
    await orphan.remove();
    onWarning(`removed cgroup ${id}, left behind by an earlier run`);
  }
}

/**
 * A record saved as "starting" as it is in fact: running, from when and under
 * which launcher, when its launcher's launch record exists (the launcher got
 * as far as cloning the job); else as saved.
 */
function launchedFrom(record: StoredJob, jobDir: string): StoredJob {
  const launch = readLaunchRecord(jobDir);
  return launch ? { ...record, state: "running", startedAt: launch.startedAt, launcher: launch.launcher } : record;
}
