import { Args } from "@oclif/core";
import { JobCommand } from "../../base-command.js";
import { configFilePath, readConfigFile, writeConfigFile } from "../../config/config-file.js";
import { requireContext } from "../../config/require-context.js";

export default class ContextUse extends JobCommand<typeof ContextUse> {
  static override summary =
    "Make a context the current one: every command uses it unless -c or RUNJOB_CONTEXT says otherwise.";
  static override examples = ["<%= config.bin %> context use build-01"];
  static override args = { name: Args.string({ description: "name of the context", required: true }) };

  async run(): Promise<unknown> {
    const path = configFilePath(this.config.configDir);
    const file = readConfigFile(path);
    requireContext(file, this.args.name);
    file.currentContext = this.args.name;
    writeConfigFile(path, file);
    if (this.jsonEnabled()) return { current: this.args.name };
    process.stdout.write(`current context: ${this.args.name}\n`);
    return undefined;
  }
}
