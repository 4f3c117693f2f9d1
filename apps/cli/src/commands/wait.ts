import { Args } from "@oclif/core";
import { JobCommand } from "../base-command.js";
import { Reconnector, reconnectFlag } from "../connection/reconnect.js";
import { exitCodeOf } from "../format/exit-code.js";
import { jobToJson } from "../format/job-json.js";
import { outcome } from "../format/job-text.js";
import { JOB_REF_DESCRIPTION, resolveJobId } from "../job-id.js";
import { jobOf } from "../job-of.js";

export default class Wait extends JobCommand<typeof Wait> {
  static override summary =
    "Wait for a job to end; exit with its code (128+signal if a signal ended it, 124 on timeout).";
  static override examples = ["<%= config.bin %> wait 3f2a9c && echo passed"];
  static override args = {
    id: Args.string({ description: JOB_REF_DESCRIPTION, required: true }),
  };
  static override flags = {
    reconnect: reconnectFlag,
  };

  async run(): Promise<void> {
    // Ctrl-C ends the command as usual: nothing to detach from.
    const reconnector = Reconnector.fromFlag(this.flags.reconnect, new AbortController().signal);
    this.reconnector = reconnector;
    const client = await this.client();
    const id = await resolveJobId(client, this.args.id);
    const job = jobOf(await reconnector.retry(() => client.waitJob({ id })));
    if (this.jsonEnabled()) this.printJson(jobToJson(job));
    else process.stderr.write(`${job.id} ${outcome(job)}\n`);
    this.exit(exitCodeOf(job));
  }
}
