import { JobCommand } from "../../base-command.js";
import { configFilePath, readConfigFile } from "../../config/config-file.js";
import { CONTEXT_ENV_VAR } from "../../connection/settings.js";

export default class ContextLs extends JobCommand<typeof ContextLs> {
  static override summary = "List the saved contexts; * marks the one in use.";
  static override hiddenAliases = ["context:list"];
  static override examples = ["<%= config.bin %> context ls", "<%= config.bin %> context ls --json"];

  async run(): Promise<unknown> {
    const path = configFilePath(this.config.configDir);
    const file = readConfigFile(path);
    // The one in use: what -c, then RUNJOB_CONTEXT, then the file says.
    const inUse = this.flags.context?.[0] ?? (process.env[CONTEXT_ENV_VAR] || undefined) ?? file.currentContext;
    const contexts = Object.entries(file.contexts).map(([name, context]) => ({
      name,
      current: name === inUse,
      ...context,
    }));
    if (this.jsonEnabled()) return contexts;
    if (contexts.length === 0) {
      process.stdout.write(
        `no contexts in ${path}; add one with 'runjob context add NAME --server HOST:PORT --cert F --key F --ca F'\n`,
      );
      return undefined;
    }
    const rows = [
      ["", "NAME", "SERVER", "CERT"],
      ...contexts.map((c) => [c.current ? "*" : "", c.name, c.server, c.cert]),
    ];
    const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
    const lines = rows.map((row) =>
      row.map((cell, column) => (column < 3 ? cell.padEnd(widths[column] ?? 0) : cell)).join("  "),
    );
    process.stdout.write(`${lines.join("\n")}\n`);
    return undefined;
  }
}
