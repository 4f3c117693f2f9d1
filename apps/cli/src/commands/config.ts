import { JobCommand } from "../base-command.js";
import { ENV_VARS, SETTING_NAMES } from "../connection/settings.js";

export default class Config extends JobCommand<typeof Config> {
  static override summary = "Show the connection settings in effect and where each came from.";
  static override description = `Precedence: flags (--server, --cert, --key, --ca), then RUNJOB_SERVER, RUNJOB_CERT,
RUNJOB_KEY, RUNJOB_CA, then config.json in the config dir, then defaults (localhost:8443 and the dev PKI's alice).`;
  static override examples = [
    "<%= config.bin %> config",
    "RUNJOB_SERVER=build-01:8443 <%= config.bin %> config --json",
  ];

  async run(): Promise<unknown> {
    const { settings, sources, configFile } = this.connection();
    if (this.jsonEnabled()) {
      return {
        configFile,
        settings: Object.fromEntries(
          SETTING_NAMES.map((name) => [name, { value: settings[name], source: sources[name] }]),
        ),
      };
    }
    const lines = SETTING_NAMES.map(
      (name) =>
        `${name.padEnd(7)} ${settings[name].padEnd(40)} (${sources[name]}${sources[name] === "env" ? ` ${ENV_VARS[name]}` : ""})`,
    );
    process.stdout.write(`${lines.join("\n")}\nconfig file: ${configFile}\n`);
    return undefined;
  }
}
