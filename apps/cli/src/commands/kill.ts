import { Args, Flags } from "@oclif/core";
import { JobCommand } from "../base-command.js";
import { resolveJobId } from "../job-id.js";

export default class Kill extends JobCommand<typeof Kill> {
  static override summary = "Send a signal to a job's main process (default SIGTERM), without the stop sequence.";
  static override description =
    "Unlike 'stop', nothing follows: the job ends only if the signal ends it. Any signal may be sent, KILL and STOP included.";
  static override examples = [
    "<%= config.bin %> kill 3f2a9c",
    "<%= config.bin %> kill -s HUP 3f2a9c",
    "<%= config.bin %> kill -s SIGUSR1 3f2a9c",
  ];
  static override args = {
    id: Args.string({ description: "job id or a unique prefix of at least 6 characters", required: true }),
  };
  static override flags = {
    signal: Flags.string({ char: "s", summary: "Signal name (TERM, SIGHUP, kill) or number.", default: "TERM" }),
  };

  async run(): Promise<unknown> {
    const client = await this.client();
    const id = await resolveJobId(client, this.args.id);
    await client.signalJob({ id, signal: this.flags.signal });
    if (this.jsonEnabled()) return { id, signal: this.flags.signal };
    return undefined;
  }
}
