import { Command, Flags, type Interfaces } from "@oclif/core";
import { CLI_FAILURE_EXIT, CliError, describeError } from "./cli-error.js";
import type { JobClient } from "./connection/client.js";
import type { Reconnector } from "./connection/reconnect.js";
import { type ConnectionSettings, type ResolvedSettings, resolveSettings } from "./connection/settings.js";
import { type CommandUsage, explainUsageError } from "./usage-error.js";

/**
 * Shared by every runjob command: the connection flags, the
 * `--json` switch, a lazily created client, and errors with exit code 125: one
 * line ending in the error's code, or under `--json` a JSON object on stdout.
 */
export abstract class JobCommand<T extends typeof Command> extends Command {
  static override baseFlags = {
    server: Flags.string({ summary: "Server as host:port.", helpGroup: "CONNECTION", env: undefined }),
    cert: Flags.string({ summary: "Client certificate (PEM).", helpGroup: "CONNECTION" }),
    key: Flags.string({ summary: "Client private key (PEM).", helpGroup: "CONNECTION" }),
    ca: Flags.string({ summary: "CA that signed the server's certificate (PEM).", helpGroup: "CONNECTION" }),
    context: Flags.string({
      char: "c",
      summary: "Use this context ('runjob context ls'); env RUNJOB_CONTEXT.",
      helpGroup: "CONNECTION",
      multiple: true,
      multipleNonGreedy: true,
    }),
  };

  static override enableJsonFlag = true;

  protected flags!: Interfaces.InferredFlags<(typeof JobCommand)["baseFlags"] & T["flags"]>;
  protected args!: Interfaces.InferredArgs<T["args"]>;
  /** Every positional argument, including those after "--" (for commands that take a command line). */
  protected argvRest: string[] = [];
  private cachedClient?: JobClient;
  private currentReconnector?: Reconnector;

  /** Set by commands that outlast a server restart: told whenever a call reaches the server. */
  protected get reconnector(): Reconnector | undefined {
    return this.currentReconnector;
  }

  protected set reconnector(reconnector: Reconnector | undefined) {
    this.currentReconnector = reconnector;
    if (reconnector) {
      // A refused certificate looks like a dropped connection; reconnecting would only repeat it for --reconnect.
      reconnector.diagnose = async (error) => {
        const { explainTlsFailure } = await import("./tls/explain-tls-failure.js");
        return explainTlsFailure(error, this.settings);
      };
    }
  }

  public override async init(): Promise<void> {
    await super.init();
    const { args, argv, flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (this.ctor as typeof JobCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    this.flags = flags as typeof this.flags;
    this.args = args as typeof this.args;
    this.argvRest = argv.map(String);
  }

  /** The connection settings with their sources (flags, env, context, config file, defaults). */
  protected connection(context?: string): ResolvedSettings {
    const named = this.flags.context ?? [];
    if (context === undefined && named.length > 1) {
      throw new CliError("JW_ERR_USAGE", `only 'runjob list' takes more than one --context; give ${this.id} one`);
    }
    return resolveSettings({ ...this.flags, context: context ?? named[0] }, process.env, this.config.configDir);
  }

  protected get settings(): ConnectionSettings {
    return this.connection().settings;
  }

  /** The JobService client; Connect is loaded only by commands that need it, to keep start-up fast. */
  protected async client(): Promise<JobClient> {
    if (!this.cachedClient) {
      const { createJobClient } = await import("./connection/client.js");
      this.cachedClient = createJobClient(this.settings, () => this.reconnector?.progressed());
    }
    return this.cachedClient;
  }

  /** Prints a value as JSON on stdout. */
  protected printJson(value: unknown): void {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** This command as usage errors are explained against (usage-error.ts). */
  private usage(): CommandUsage {
    const definitions = { ...(this.ctor as typeof JobCommand).baseFlags, ...this.ctor.flags };
    return {
      id: this.id ?? "",
      argv: this.argv,
      strict: this.ctor.strict !== false,
      flags: Object.fromEntries(
        Object.entries(definitions).map(([name, flag]) => [name, { char: flag.char, type: flag.type }]),
      ),
    };
  }

  protected override async catch(error: Error & { oclif?: { exit?: number } }): Promise<void> {
    // this.exit(code) and --help/--version work by throwing: let oclif finish them.
    if (error.message.startsWith("EEXIT") || error.oclif?.exit === 0) throw error;
    let settings: ConnectionSettings | undefined;
    try {
      settings = this.settings;
    } catch {
      // settings themselves failed: the error says why
    }
    // Loaded only on failure: it may probe the server with a second handshake.
    const { explainTlsFailure } = await import("./tls/explain-tls-failure.js");
    const explained =
      explainUsageError(error, this.usage()) ?? (settings && (await explainTlsFailure(error, settings)));
    const { code, message } = describeError(explained ?? error, settings?.server ?? "the server");
    if (this.jsonEnabled()) {
      // A script that asked for JSON gets JSON on failure too, and the same exit code.
      this.printJson({ error: { code, message } });
    } else {
      const usageHint = code === "JW_ERR_USAGE" ? ` (see 'runjob help ${(this.id ?? "").replaceAll(":", " ")}')` : "";
      process.stderr.write(`runjob: ${message}${usageHint} [${code}]\n`);
    }
    process.exit(CLI_FAILURE_EXIT);
  }
}
