import { Args } from "@oclif/core";
import { JobCommand } from "../base-command.js";
import { exitCodeOf } from "../format/exit-code.js";
import { jobToJson } from "../format/job-json.js";
import { outcome } from "../format/job-text.js";
import { resolveJobId } from "../job-id.js";
import { jobOf } from "../job-of.js";

export default class Wait extends JobCommand<typeof Wait> {
  static override summary =
    "Wait for a job to end; exit with its code (128+signal if a signal ended it, 124 on timeout).";
  static override examples = ["<%= config.bin %> wait 3f2a9c && echo passed"];
  static override args = {
    id: Args.string({ description: "job id or a unique prefix of at least 6 characters", required: true }),
  };

  async run(): Promise<void> {
    const client = await this.client();
    const job = jobOf(await client.waitJob({ id: await resolveJobId(client, this.args.id) }));
    if (this.jsonEnabled()) this.printJson(jobToJson(job));
    else process.stderr.write(`${job.id} ${outcome(job)}\n`);
    this.exit(exitCodeOf(job));
  }
}
