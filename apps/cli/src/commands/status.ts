import { Args } from "@oclif/core";
import { JobCommand } from "../base-command.js";
import { jobToJson } from "../format/job-json.js";
import { jobStatus } from "../format/job-text.js";
import { JOB_REF_DESCRIPTION, resolveJobId } from "../job-id.js";
import { jobOf } from "../job-of.js";

export default class Status extends JobCommand<typeof Status> {
  static override summary = "Show a job: state, how it ended, limits and resource usage.";
  static override examples = ["<%= config.bin %> status 3f2a9c", "<%= config.bin %> status 3f2a9c --json | jq .state"];
  static override args = {
    id: Args.string({ description: JOB_REF_DESCRIPTION, required: true }),
  };

  async run(): Promise<unknown> {
    const client = await this.client();
    const job = jobOf(await client.getJob({ id: await resolveJobId(client, this.args.id) }));
    if (this.jsonEnabled()) return jobToJson(job);
    process.stdout.write(`${jobStatus(job)}\n`);
    return undefined;
  }
}
