import { resolve } from "node:path";
import { Args, Flags } from "@oclif/core";
import { JobCommand } from "../../base-command.js";
import { CliError } from "../../cli-error.js";
import {
  type Context,
  configFilePath,
  readConfigFile,
  SETTING_KEYS,
  writeConfigFile,
} from "../../config/config-file.js";
import { loadClientCredentials } from "../../tls/client-credentials.js";

/** Context names: what a shell passes without quoting, and what a table shows unambiguously. */
const CONTEXT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export default class ContextAdd extends JobCommand<typeof ContextAdd> {
  static override summary = "Save a server and the credentials for it under a name (like docker context create).";
  static override description = `The certificate, key and CA paths are stored absolute, so the context works from any
directory; they are checked first (readable, the key matches the certificate, the certificate is valid now and was
issued by the CA). The first context added becomes the current one. Adding a name that exists replaces it.`;
  static override examples = [
    "<%= config.bin %> context add local --server localhost:8443 --cert certs/alice.crt --key certs/alice.key --ca certs/ca.crt",
    "<%= config.bin %> context add build-01 --server build-01:8443 --cert ~/.runjob/me.crt --key ~/.runjob/me.key --ca ~/.runjob/ca.crt --use",
  ];
  static override args = {
    name: Args.string({ description: "name of the context (letters, digits, '.', '_', '-')", required: true }),
  };
  static override flags = {
    use: Flags.boolean({ summary: "Make it the current context (the first one added always is)." }),
  };

  async run(): Promise<unknown> {
    const { name } = this.args;
    if (!CONTEXT_NAME.test(name)) {
      throw new CliError(
        "JW_ERR_USAGE",
        `context name ${JSON.stringify(name)} must be letters, digits, '.', '_' or '-'`,
      );
    }
    const missing = SETTING_KEYS.filter((key) => !this.flags[key]);
    if (missing.length > 0) {
      throw new CliError("JW_ERR_USAGE", `context add needs ${missing.map((key) => `--${key}`).join(", ")}`);
    }
    const server = this.flags.server ?? "";
    if (!/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/.test(server)) {
      throw new CliError(
        "JW_ERR_USAGE",
        `--server ${JSON.stringify(server)} must be HOST:PORT, such as localhost:8443`,
      );
    }
    const context: Context = {
      server,
      cert: resolve(this.flags.cert ?? ""),
      key: resolve(this.flags.key ?? ""),
      ca: resolve(this.flags.ca ?? ""),
    };
    loadClientCredentials(context);
    const path = configFilePath(this.config.configDir);
    const file = readConfigFile(path);
    const replaced = name in file.contexts;
    file.contexts[name] = context;
    if (this.flags.use || file.currentContext === undefined) file.currentContext = name;
    writeConfigFile(path, file);
    const current = file.currentContext === name;
    if (this.jsonEnabled()) return { name, ...context, current, configFile: path };
    process.stdout.write(
      `context ${name} ${replaced ? "replaced" : "added"}${current ? " (current)" : ` (use it with 'runjob context use ${name}' or -c ${name})`}\n`,
    );
    return undefined;
  }
}
