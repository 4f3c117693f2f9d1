import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Args, Flags } from "@oclif/core";
import { JobCommand } from "../base-command.js";
import { jobToJson } from "../format/job-json.js";
import { outcome } from "../format/job-text.js";
import { resolveJobId } from "../job-id.js";
import { jobOf } from "../job-of.js";
import { parseDuration } from "../units.js";

export default class Stop extends JobCommand<typeof Stop> {
  static override summary = "Stop a job: SIGTERM, then SIGKILL to its whole process tree after the grace period.";
  static override examples = ["<%= config.bin %> stop 3f2a9c", "<%= config.bin %> stop 3f2a9c --grace 30s"];
  static override args = {
    id: Args.string({ description: "job id or a unique prefix of at least 6 characters", required: true }),
  };
  static override flags = {
    grace: Flags.string({ summary: "Time between SIGTERM and SIGKILL (default: the server's, 10s)." }),
  };

  async run(): Promise<unknown> {
    const graceMs = this.flags.grace === undefined ? undefined : parseDuration(this.flags.grace, "grace");
    const client = await this.client();
    const id = await resolveJobId(client, this.args.id);
    const job = jobOf(
      await client.stopJob({ id, gracePeriod: graceMs === undefined ? undefined : durationFromMs(graceMs) }),
    );
    if (this.jsonEnabled()) return jobToJson(job);
    process.stdout.write(`${job.id} ${outcome(job)}\n`);
    return undefined;
  }
}
