import { JobState } from "@jobworker/proto";
import { Flags } from "@oclif/core";
import { JobCommand } from "../base-command.js";
import { jobToJson } from "../format/job-json.js";
import { jobTable, STATE_NAMES, stateFromName } from "../format/job-text.js";
import { listAllJobs } from "../list-all.js";

export default class List extends JobCommand<typeof List> {
  static override summary = "List your jobs (an admin sees everyone's), oldest first.";
  static override aliases = ["list-jobs"];
  static override examples = [
    "<%= config.bin %> list",
    "<%= config.bin %> list --state running --json",
    "<%= config.bin %> list --owner bob",
  ];
  static override flags = {
    state: Flags.string({ summary: "Only jobs in this state.", options: [...STATE_NAMES] }),
    owner: Flags.string({ summary: "Only this owner's jobs (admins only, for other owners)." }),
  };

  async run(): Promise<unknown> {
    const client = await this.client();
    const state = this.flags.state ? stateFromName(this.flags.state) : JobState.UNSPECIFIED;
    const jobs = await listAllJobs(client, { state, owner: this.flags.owner ?? "" });
    if (this.jsonEnabled()) return jobs.map(jobToJson);
    process.stdout.write(`${jobTable(jobs, process.stdout.columns ?? Number.POSITIVE_INFINITY)}\n`);
    return undefined;
  }
}
