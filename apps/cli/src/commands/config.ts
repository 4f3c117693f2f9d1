import { JobCommand } from "../base-command.js";
import { ENV_VARS, SETTING_NAMES } from "../connection/settings.js";

export default class Config extends JobCommand<typeof Config> {
  static override summary = "Show the connection settings in effect and where each came from.";
  static override description = `Precedence: flags (--server, --cert, --key, --ca), then RUNJOB_SERVER, RUNJOB_CERT,
RUNJOB_KEY, RUNJOB_CA, then the context in use (-c, RUNJOB_CONTEXT, or 'runjob context use'), then config.json's
top level in the config dir, then defaults (localhost:8443 and the dev PKI's alice).`;
  static override examples = [
    "<%= config.bin %> config",
    "RUNJOB_SERVER=build-01:8443 <%= config.bin %> config --json",
  ];

  async run(): Promise<unknown> {
    const { settings, sources, configFile, context } = this.connection();
    if (this.jsonEnabled()) {
      return {
        configFile,
        context: context ?? null,
        settings: Object.fromEntries(
          SETTING_NAMES.map((name) => [name, { value: settings[name], source: sources[name] }]),
        ),
      };
    }
    const lines = SETTING_NAMES.map(
      (name) =>
        `${name.padEnd(7)} ${settings[name].padEnd(40)} (${sources[name]}${sources[name] === "env" ? ` ${ENV_VARS[name]}` : sources[name] === "context" ? ` ${context}` : ""})`,
    );
    process.stdout.write(`${lines.join("\n")}\ncontext: ${context ?? "none"}\nconfig file: ${configFile}\n`);
    return undefined;
  }
}
