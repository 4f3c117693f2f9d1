import { Flags } from "@oclif/core";
import { JobCommand } from "../base-command.js";

export default class Clean extends JobCommand<typeof Clean> {
  static override summary = "Stop and delete all your jobs (an admin may clean everyone's with --all-owners).";
  static override aliases = ["clean-all-jobs"];
  static override examples = ["<%= config.bin %> clean", "<%= config.bin %> clean --all-owners"];
  static override flags = {
    "all-owners": Flags.boolean({ summary: "Every owner's jobs, not only yours (admins only)." }),
  };

  async run(): Promise<unknown> {
    const client = await this.client();
    const { deletedCount } = await client.cleanJobs({ allOwners: this.flags["all-owners"] });
    if (this.jsonEnabled()) return { deletedCount };
    process.stdout.write(`deleted ${deletedCount} job${deletedCount === 1 ? "" : "s"}\n`);
    return undefined;
  }
}
