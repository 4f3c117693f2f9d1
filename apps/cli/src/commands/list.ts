import { type Job, JobEventType, JobState } from "@jobworker/proto";
import { Flags } from "@oclif/core";
import { JobCommand } from "../base-command.js";
import { CLI_FAILURE_EXIT, CliError } from "../cli-error.js";
import { allContextNames } from "../config/all-context-names.js";
import { configFilePath, readConfigFile } from "../config/config-file.js";
import { requireContext } from "../config/require-context.js";
import { Reconnector, reconnectFlag } from "../connection/reconnect.js";
import { jobToJson } from "../format/job-json.js";
import { jobHeader, jobRow, jobTable, STATE_NAMES, stateFromName } from "../format/job-text.js";
import { outputFlag, outputFormat, quietFlag, toYaml } from "../format/output-format.js";
import { WatchedTable } from "../format/watched-table.js";
import { selectorFlag } from "../job-selection.js";
import { listAllJobs } from "../list-all.js";
import { contextJobTable, listContextsJobs } from "../list-contexts.js";
import { writeStdout } from "../output-writer.js";
import { interruptSignal } from "../stream-to-stdout.js";
import { watchJobsResumably } from "../watch-stream.js";

/** Column widths of the table `list -w` prints row by row, as it cannot measure rows yet to come. */
const WATCH_WIDTHS = [12, 16, 10, 9, 20, 8, 24];

export default class List extends JobCommand<typeof List> {
  static override summary = "List your jobs (an admin sees everyone's), oldest first.";
  static override description =
    `With --watch, keeps going: one more row (or, with --json, one JSON object a line) for each
change of a job, as 'kubectl get -w' does, until Ctrl-C. A restart of the server is bridged (see --reconnect).`;
  static override aliases = ["list-jobs"];
  static override examples = [
    "<%= config.bin %> list",
    "<%= config.bin %> list --state running --json",
    "<%= config.bin %> list -l team=infra,ci -o wide",
    "<%= config.bin %> list -w --json",
    "<%= config.bin %> list --owner bob",
    "<%= config.bin %> list -q --state ended | xargs <%= config.bin %> delete",
    "<%= config.bin %> list --queue default",
  ];
  static override flags = {
    state: Flags.string({ summary: "Only jobs in this state.", options: [...STATE_NAMES] }),
    owner: Flags.string({ summary: "Only this owner's jobs (admins only, for other owners)." }),
    selector: selectorFlag,
    watch: Flags.boolean({ char: "w", summary: "After the list, print each change as it happens (Ctrl-C stops)." }),
    output: outputFlag,
    quiet: quietFlag,
    reconnect: reconnectFlag,
    "all-contexts": Flags.boolean({ summary: "List the jobs of every context (see -c), with a CONTEXT column." }),
    queue: Flags.string({
      summary: "List the fleet jobs of this queue (from any fleet server), with a HOST column.",
      exclusive: ["watch", "all-contexts", "selector"],
    }),
  };

  async run(): Promise<unknown> {
    const filter = {
      state: this.flags.state ? stateFromName(this.flags.state) : JobState.UNSPECIFIED,
      owner: this.flags.owner ?? "",
      labelSelector: this.flags.selector ?? "",
    };
    const contexts = this.flags["all-contexts"] ? allContextNames(this.config.configDir) : (this.flags.context ?? []);
    if (contexts.length > 1 || this.flags["all-contexts"]) {
      if (this.flags.watch) {
        throw new CliError(
          "JW_ERR_USAGE",
          "list -w watches one server: give one --context, or drop -w to list several",
        );
      }
      return this.listContexts(contexts, filter);
    }
    const client = await this.client();
    const format = outputFormat(this.flags, this.jsonEnabled());
    if (this.flags.queue) Object.assign(filter, { queue: this.flags.queue });
    if (this.flags.watch) {
      await this.watch(filter, format);
      return undefined;
    }
    const jobs = await listAllJobs(client, filter);
    if (format === "json" && this.jsonEnabled()) return jobs.map(jobToJson);
    const width = process.stdout.columns || Number.POSITIVE_INFINITY;
    const text = {
      table: () => jobTable(jobs, width),
      wide: () => jobTable(jobs, width, true),
      json: () => JSON.stringify(jobs.map(jobToJson), null, 2),
      yaml: () => toYaml(jobs.map(jobToJson)),
      name: () => jobs.map((job) => job.id).join("\n"),
    }[format]();
    if (text) process.stdout.write(`${text}\n`);
    return undefined;
  }

  /** Several servers' jobs in one table (one JSON array), each with its context; a context that fails is named on stderr. */
  private async listContexts(
    names: string[],
    filter: { state: JobState; owner: string; labelSelector: string },
  ): Promise<unknown> {
    // Each context's own server and credentials: --server or RUNJOB_SERVER would make them all one server.
    const file = readConfigFile(configFilePath(this.config.configDir));
    const contexts = names.map((name) => ({ name, settings: requireContext(file, name) }));
    const answers = await listContextsJobs(contexts, filter);
    const failed = answers.filter((answer) => answer.error);
    for (const { context, error } of failed) {
      if (!this.jsonEnabled()) process.stderr.write(`runjob: context ${context}: ${error?.message} [${error?.code}]\n`);
    }
    if (failed.length > 0) process.exitCode = CLI_FAILURE_EXIT;
    if (this.jsonEnabled()) {
      return answers.flatMap(({ context, jobs, error }) =>
        error ? [{ context, error }] : jobs.map((job) => ({ context, ...(jobToJson(job) as object) })),
      );
    }
    process.stdout.write(`${contextJobTable(answers, process.stdout.columns ?? Number.POSITIVE_INFINITY)}\n`);
    return undefined;
  }

  /** On a terminal: the table, redrawn as jobs change (at most every 100 ms), as `watch runjob list` would. */
  private async watchOnTerminal(
    filter: { state: JobState; owner: string; labelSelector: string },
    wide: boolean,
    signal: AbortSignal,
    reconnector: Reconnector,
  ): Promise<void> {
    const client = await this.client();
    const table = new WatchedTable();
    let timer: NodeJS.Timeout | undefined;
    const draw = () => {
      timer = undefined;
      process.stdout.write(`${CLEAR}${table.render(process.stdout.columns || Number.POSITIVE_INFINITY, wide)}\n`);
    };
    try {
      await watchJobsResumably(client, filter, signal, reconnector, (event) => {
        if (table.apply(event)) timer ??= setTimeout(draw, REDRAW_MS);
        return true;
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** The jobs now, then one line per change: NDJSON for json, a row for the tables, an id for name. */
  private async watch(
    filter: { state: JobState; owner: string; labelSelector: string },
    format: string,
  ): Promise<void> {
    const { signal } = interruptSignal();
    const reconnector = Reconnector.fromFlag(this.flags.reconnect, signal);
    this.reconnector = reconnector;
    const client = await this.client();
    const wide = format === "wide";
    const line = (job: Job): string => {
      if (format === "json" || format === "yaml") return JSON.stringify(jobToJson(job));
      if (format === "name") return job.id;
      return fixedRow(jobRow(job, wide));
    };
    if ((format === "table" || format === "wide") && process.stdout.isTTY) {
      await this.watchOnTerminal(filter, wide, signal, reconnector);
      return;
    }
    if (format === "table" || format === "wide") await writeStdout(Buffer.from(`${fixedRow(jobHeader(wide))}\n`));
    await watchJobsResumably(client, filter, signal, reconnector, (event) => {
      if (event.type === JobEventType.SYNCED || !event.job) return true;
      return writeStdout(Buffer.from(`${line(event.job)}\n`));
    });
  }
}

/** Clears a terminal and puts the cursor home: each drawing replaces the last. */
const CLEAR = "\u001b[H\u001b[2J";
/** Shortest time between two drawings: a burst of changes is drawn once. */
const REDRAW_MS = 100;

function fixedRow(cells: readonly string[]): string {
  return cells
    .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(WATCH_WIDTHS[column] ?? 12)))
    .join("  ");
}
