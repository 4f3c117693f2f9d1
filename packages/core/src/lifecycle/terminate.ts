import { setTimeout as delay } from "node:timers/promises";
import { sendControl } from "@jobworker/helper";
import type { ManagedJob } from "../managed-job.js";

/**
 * Graceful stop: SIGTERM to the job (its init forwards it), then, if the job
 * has not ended after `graceMs`, SIGKILL to the whole tree through cgroup.kill
 * (or, without one, through the launcher, which kills the job's PID namespace).
 * Never signals a pid from here: nothing can hit a reused one.
 */
export async function terminate(job: ManagedJob, jobDir: string, graceMs: number): Promise<void> {
  if (graceMs > 0 && (await sendControl(jobDir, "term"))) {
    const abort = new AbortController();
    const endedInTime = await Promise.race([
      job.ended.then(() => true),
      delay(graceMs, false, { signal: abort.signal }).catch(() => false),
    ]);
    abort.abort();
    if (endedInTime) return;
  }
  const killed = (await job.cgroup?.kill()) ?? false;
  if (!killed) await sendControl(jobDir, "kill");
}
