import { Flags } from "@oclif/core";
import { JobCommand } from "../base-command.js";
import { selectorFlag } from "../job-selection.js";

export default class Clean extends JobCommand<typeof Clean> {
  static override summary = "Stop and delete all your jobs (an admin may clean everyone's with --all-owners).";
  static override description =
    "Running jobs are stopped first. To delete only ended jobs and leave running ones alone, use 'runjob prune'.";
  static override aliases = ["clean-all-jobs"];
  static override examples = [
    "<%= config.bin %> clean",
    "<%= config.bin %> clean -l team=infra",
    "<%= config.bin %> clean --all-owners",
  ];
  static override flags = {
    "all-owners": Flags.boolean({ summary: "Every owner's jobs, not only yours (admins only)." }),
    selector: selectorFlag,
  };

  async run(): Promise<unknown> {
    const client = await this.client();
    const { deletedCount } = await client.cleanJobs({
      allOwners: this.flags["all-owners"],
      labelSelector: this.flags.selector ?? "",
    });
    if (this.jsonEnabled()) return { deletedCount };
    process.stdout.write(`deleted ${deletedCount} job${deletedCount === 1 ? "" : "s"}\n`);
    return undefined;
  }
}
