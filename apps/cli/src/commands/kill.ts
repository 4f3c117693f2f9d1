import { Args, Flags } from "@oclif/core";
import { JobCommand } from "../base-command.js";
import { JOB_REF_DESCRIPTION } from "../job-id.js";
import { resolveJobIds, selectorFlag } from "../job-selection.js";

export default class Kill extends JobCommand<typeof Kill> {
  static override summary = "Send a signal to jobs' main processes (default SIGTERM), without the stop sequence.";
  static override description =
    "Unlike 'stop', nothing follows: a job ends only if the signal ends it. Any signal may be sent, KILL and STOP included. Several jobs are signalled at once; exits 125 if any failed, the others still happen.";
  static override examples = [
    "<%= config.bin %> kill 3f2a9c",
    "<%= config.bin %> kill -s HUP 3f2a9c",
    "<%= config.bin %> kill -s SIGUSR1 build-42 build-43",
    "<%= config.bin %> kill -s INT -l team=infra",
  ];
  static override strict = false;
  static override args = {
    id: Args.string({ description: `${JOB_REF_DESCRIPTION}; several may be given` }),
  };
  static override flags = {
    signal: Flags.string({ char: "s", summary: "Signal name (TERM, SIGHUP, kill) or number.", default: "TERM" }),
    selector: selectorFlag,
  };

  async run(): Promise<unknown> {
    const client = await this.client();
    const ids = await resolveJobIds(client, this.argvRest, this.flags.selector);
    const { signal } = this.flags;
    const results = await Promise.allSettled(ids.map((id) => client.signalJob({ id, signal })));
    const signalled = ids.filter((_, index) => results[index]?.status === "fulfilled");
    const failed = results.flatMap((result) => (result.status === "rejected" ? [result.reason] : []));
    if (!this.jsonEnabled()) for (const id of signalled) process.stdout.write(`${id}\n`);
    // One job: its error as the command's. Several: each failure is said, and the first decides the code.
    for (const error of failed.slice(1)) process.stderr.write(`runjob: ${(error as Error).message}\n`);
    if (failed.length > 0) throw failed[0];
    if (this.jsonEnabled()) return ids.length === 1 ? { id: ids[0], signal } : ids.map((id) => ({ id, signal }));
    return undefined;
  }
}
