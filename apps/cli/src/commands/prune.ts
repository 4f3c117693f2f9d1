import { Flags } from "@oclif/core";
import { JobCommand } from "../base-command.js";
import { selectorFlag } from "../job-selection.js";

export default class Prune extends JobCommand<typeof Prune> {
  static override summary = "Delete your ended jobs with their output; running jobs are left alone.";
  static override examples = ["<%= config.bin %> prune", "<%= config.bin %> prune -l ci=true"];
  static override flags = {
    "all-owners": Flags.boolean({ summary: "Every owner's ended jobs, not only yours (admins only)." }),
    selector: selectorFlag,
  };

  async run(): Promise<unknown> {
    const client = await this.client();
    const { deletedCount } = await client.cleanJobs({
      allOwners: this.flags["all-owners"],
      labelSelector: this.flags.selector ?? "",
      endedOnly: true,
    });
    if (this.jsonEnabled()) return { deletedCount };
    process.stdout.write(`deleted ${deletedCount} ended job${deletedCount === 1 ? "" : "s"}\n`);
    return undefined;
  }
}
