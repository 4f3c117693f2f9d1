import { Args } from "@oclif/core";
import { JobCommand } from "../base-command.js";
import { JOB_REF_DESCRIPTION } from "../job-id.js";
import { resolveJobIds, selectorFlag } from "../job-selection.js";

export default class Delete extends JobCommand<typeof Delete> {
  static override summary = "Delete ended jobs with their output.";
  static override description = "Exits 125 if any delete failed (a job still running, say); the others still happen.";
  static override examples = [
    "<%= config.bin %> delete 3f2a9c",
    "<%= config.bin %> delete build-42 build-43",
    "<%= config.bin %> delete -l ci=true",
  ];
  static override strict = false;
  static override args = {
    id: Args.string({ description: `${JOB_REF_DESCRIPTION}; several may be given` }),
  };
  static override flags = {
    selector: selectorFlag,
  };

  async run(): Promise<unknown> {
    const client = await this.client();
    const ids = await resolveJobIds(client, this.argvRest, this.flags.selector);
    const results = await Promise.allSettled(ids.map((id) => client.deleteJob({ id })));
    const deleted = ids.filter((_, index) => results[index]?.status === "fulfilled");
    const failed = results.flatMap((result) => (result.status === "rejected" ? [result.reason] : []));
    if (!this.jsonEnabled()) for (const id of deleted) process.stdout.write(`deleted ${id}\n`);
    for (const error of failed.slice(1)) process.stderr.write(`runjob: ${(error as Error).message}\n`);
    if (failed.length > 0) throw failed[0];
    if (this.jsonEnabled()) return ids.length === 1 ? { deleted: ids[0] } : { deleted };
    return undefined;
  }
}
