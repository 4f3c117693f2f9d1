import { JobState } from "@jobworker/proto";
import { Flags } from "@oclif/core";
import { JobCommand } from "../base-command.js";
import { CLI_FAILURE_EXIT } from "../cli-error.js";
import { allContextNames } from "../config/all-context-names.js";
import { configFilePath, readConfigFile } from "../config/config-file.js";
import { requireContext } from "../config/require-context.js";
import { jobToJson } from "../format/job-json.js";
import { jobTable, STATE_NAMES, stateFromName } from "../format/job-text.js";
import { listAllJobs } from "../list-all.js";
import { contextJobTable, listContextsJobs } from "../list-contexts.js";

export default class List extends JobCommand<typeof List> {
  static override summary = "List your jobs (an admin sees everyone's), oldest first.";
  static override aliases = ["list-jobs"];
  static override examples = [
    "<%= config.bin %> list",
    "<%= config.bin %> list --state running --json",
    "<%= config.bin %> list --owner bob",
  ];
  static override flags = {
    state: Flags.string({ summary: "Only jobs in this state.", options: [...STATE_NAMES] }),
    owner: Flags.string({ summary: "Only this owner's jobs (admins only, for other owners)." }),
    "all-contexts": Flags.boolean({ summary: "List the jobs of every context (see -c), with a CONTEXT column." }),
  };

  async run(): Promise<unknown> {
    const state = this.flags.state ? stateFromName(this.flags.state) : JobState.UNSPECIFIED;
    const contexts = this.flags["all-contexts"] ? allContextNames(this.config.configDir) : (this.flags.context ?? []);
    if (contexts.length > 1 || this.flags["all-contexts"]) {
      return this.listContexts(contexts, { state, owner: this.flags.owner ?? "" });
    }
    const client = await this.client();
    const jobs = await listAllJobs(client, { state, owner: this.flags.owner ?? "" });
    if (this.jsonEnabled()) return jobs.map(jobToJson);
    process.stdout.write(`${jobTable(jobs, process.stdout.columns ?? Number.POSITIVE_INFINITY)}\n`);
    return undefined;
  }

  /** Several servers' jobs in one table (one JSON array), each with its context; a context that fails is named on stderr. */
  private async listContexts(names: string[], filter: { state: JobState; owner: string }): Promise<unknown> {
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
}
