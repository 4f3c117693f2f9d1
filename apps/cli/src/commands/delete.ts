import { Args } from "@oclif/core";
import { JobCommand } from "../base-command.js";
import { resolveJobId } from "../job-id.js";

export default class Delete extends JobCommand<typeof Delete> {
  static override summary = "Delete an ended job with its output.";
  static override examples = ["<%= config.bin %> delete 3f2a9c"];
  static override args = {
    id: Args.string({ description: "job id or a unique prefix of at least 6 characters", required: true }),
  };

  async run(): Promise<unknown> {
    const client = await this.client();
    const id = await resolveJobId(client, this.args.id);
    await client.deleteJob({ id });
    if (this.jsonEnabled()) return { deleted: id };
    process.stdout.write(`deleted ${id}\n`);
    return undefined;
  }
}
