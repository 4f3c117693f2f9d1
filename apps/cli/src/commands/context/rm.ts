import { Args } from "@oclif/core";
import { JobCommand } from "../../base-command.js";
import { configFilePath, readConfigFile, writeConfigFile } from "../../config/config-file.js";
import { requireContext } from "../../config/require-context.js";

export default class ContextRm extends JobCommand<typeof ContextRm> {
  static override summary = "Forget a context (its certificate files stay where they are).";
  static override hiddenAliases = ["context:remove"];
  static override examples = ["<%= config.bin %> context rm build-01"];
  static override args = { name: Args.string({ description: "name of the context", required: true }) };

  async run(): Promise<unknown> {
    const path = configFilePath(this.config.configDir);
    const file = readConfigFile(path);
    requireContext(file, this.args.name);
    delete file.contexts[this.args.name];
    const wasCurrent = file.currentContext === this.args.name;
    if (wasCurrent) delete file.currentContext;
    writeConfigFile(path, file);
    if (this.jsonEnabled()) return { removed: this.args.name, wasCurrent };
    process.stdout.write(
      `context ${this.args.name} removed${wasCurrent ? "; no context is current now ('runjob context use NAME')" : ""}\n`,
    );
    return undefined;
  }
}
