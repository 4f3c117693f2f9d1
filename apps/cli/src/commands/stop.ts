import { durationFromMs } from "@bufbuild/protobuf/wkt";
import type { Job } from "@jobworker/proto";
import { Args, Flags } from "@oclif/core";
import { JobCommand } from "../base-command.js";
import { jobToJson } from "../format/job-json.js";
import { outcome } from "../format/job-text.js";
import { JOB_REF_DESCRIPTION } from "../job-id.js";
import { jobOf } from "../job-of.js";
import { resolveJobIds, selectorFlag } from "../job-selection.js";
import { parseDuration } from "../units.js";

export default class Stop extends JobCommand<typeof Stop> {
  static override summary = "Stop jobs: SIGTERM, then SIGKILL to each one's whole process tree after the grace period.";
  static override description =
    "Several jobs are stopped at once. Exits 125 if any stop failed; the others still happen.";
  static override examples = [
    "<%= config.bin %> stop 3f2a9c",
    "<%= config.bin %> stop build-42 build-43 --grace 30s",
    "<%= config.bin %> stop -l team=infra",
  ];
  static override strict = false;
  static override args = {
    id: Args.string({ description: `${JOB_REF_DESCRIPTION}; several may be given` }),
  };
  static override flags = {
    grace: Flags.string({ summary: "Time between SIGTERM and SIGKILL (default: the server's, 10s)." }),
    selector: selectorFlag,
  };

  async run(): Promise<unknown> {
    const graceMs = this.flags.grace === undefined ? undefined : parseDuration(this.flags.grace, "grace");
    const client = await this.client();
    const ids = await resolveJobIds(client, this.argvRest, this.flags.selector);
    const gracePeriod = graceMs === undefined ? undefined : durationFromMs(graceMs);
    const results = await Promise.allSettled(ids.map(async (id) => jobOf(await client.stopJob({ id, gracePeriod }))));
    const stopped = results.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    const failed = results.flatMap((result) => (result.status === "rejected" ? [result.reason] : []));
    if (!this.jsonEnabled()) for (const job of stopped) process.stdout.write(`${job.id} ${outcome(job)}\n`);
    // One job: its error as the command's. Several: each failure is said, and the first decides the code.
    for (const error of failed.slice(1)) process.stderr.write(`runjob: ${(error as Error).message}\n`);
    if (failed.length > 0) throw failed[0];
    if (this.jsonEnabled())
      return ids.length === 1 && stopped[0] ? jobToJson(stopped[0]) : stopped.map((job: Job) => jobToJson(job));
    return undefined;
  }
}
