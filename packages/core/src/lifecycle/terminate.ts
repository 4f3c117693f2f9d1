import { sendControl } from "@jobworker/helper";
import type { JobCgroup } from "../cgroups/job-cgroup.js";

/**
 * A job's stop: SIGTERM to the job (its init forwards it), then, at a
 * deadline, SIGKILL to its whole tree through cgroup.kill (or, without one,
 * through the launcher, which kills the job's PID namespace). A later request
 * with an earlier deadline (a shorter grace, an admin's stop, the runtime
 * limit, the output cap) moves the kill forward; none moves it back. Never
 * signals a pid from here: nothing can hit a reused one.
 */
export class Termination {
  private deadline = Number.POSITIVE_INFINITY;
  private timer?: NodeJS.Timeout;
  private termSent = false;
  private killed = false;

  constructor(
    private readonly jobDir: string,
    private readonly cgroup: JobCgroup | undefined,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Asks for the job's end within `graceMs` (0: now). Grace must fit a timer (at most 2^31-1 ms). */
  request(graceMs: number): void {
    const deadline = Date.now() + graceMs;
    if (this.killed || deadline >= this.deadline) return;
    this.deadline = deadline;
    clearTimeout(this.timer);
    if (graceMs <= 0) {
      this.kill();
      return;
    }
    this.timer = setTimeout(() => this.kill(), graceMs);
    if (this.termSent) return;
    this.termSent = true;
    // No launcher is listening when it has already gone: nothing would forward the SIGTERM, so kill.
    sendControl(this.jobDir, "term").then(
      (delivered) => delivered || this.kill(),
      (error: unknown) => {
        this.onError(error);
        this.kill();
      },
    );
  }

  /** The job has ended: nothing more to do. */
  cancel(): void {
    clearTimeout(this.timer);
  }

  private kill(): void {
    if (this.killed) return;
    this.killed = true;
    clearTimeout(this.timer);
    const viaCgroup = async () => (this.cgroup ? this.cgroup.kill() : false);
    viaCgroup()
      .then((done) => done || sendControl(this.jobDir, "kill"))
      .catch(this.onError);
  }
}
