import { toJson } from "@bufbuild/protobuf";
import { JobEventSchema, JobEventType, JobState } from "@jobworker/proto";
import { Flags } from "@oclif/core";
import { JobCommand } from "../base-command.js";
import { Reconnector, reconnectFlag } from "../connection/reconnect.js";
import { outcome, SHORT_ID_LENGTH, STATE_NAMES, stateFromName, stateName } from "../format/job-text.js";
import { terminalSafe } from "../format/terminal-safe.js";
import { selectorFlag } from "../job-selection.js";
import { writeStdout } from "../output-writer.js";
import { interruptSignal } from "../stream-to-stdout.js";
import { watchJobsResumably } from "../watch-stream.js";

export default class Events extends JobCommand<typeof Events> {
  static override summary = "Print each change of your jobs as it happens: created, running, stopping, ended, deleted.";
  static override description = `One line per change, or with --json one JSON object per line (NDJSON), until Ctrl-C,
as 'docker events' does. With --json the first object is a JOB_EVENT_TYPE_SYNCED marker: from it on
no change is missed; a later one with "reset": true follows a server restart. When the server restarts, it reconnects (see --reconnect) and goes on; a
restarted server cannot replay what happened while it was down, which is said on stderr.`;
  static override examples = [
    "<%= config.bin %> events",
    "<%= config.bin %> events -l team=infra --json | jq -c 'select(.type == \"JOB_EVENT_TYPE_ENDED\")'",
  ];
  static override flags = {
    state: Flags.string({ summary: "Only changes into (or out of) this state.", options: [...STATE_NAMES] }),
    owner: Flags.string({ summary: "Only this owner's jobs (admins only, for other owners)." }),
    selector: selectorFlag,
    reconnect: reconnectFlag,
  };

  async run(): Promise<void> {
    const { signal } = interruptSignal();
    const reconnector = Reconnector.fromFlag(this.flags.reconnect, signal);
    this.reconnector = reconnector;
    const client = await this.client();
    const json = this.jsonEnabled();
    const filter = {
      state: this.flags.state ? stateFromName(this.flags.state) : JobState.UNSPECIFIED,
      owner: this.flags.owner ?? "",
      labelSelector: this.flags.selector ?? "",
    };
    await watchJobsResumably(client, filter, signal, reconnector, (event, serverEpoch) => {
      if (event.type === JobEventType.SYNCED && event.reset) {
        process.stderr.write("runjob: the server restarted; changes while it was down are not shown\n");
      }
      if (event.type === JobEventType.SNAPSHOT) return true;
      if (json) {
        // Scripts get the SYNCED marker too: from it on no change is missed, and its reset says when some may have been.
        const json = toJson(JobEventSchema, event, { alwaysEmitImplicit: true });
        const line =
          typeof json === "object" && json !== null && !Array.isArray(json) ? { ...json, serverEpoch } : json;
        return writeStdout(Buffer.from(`${JSON.stringify(line)}\n`));
      }
      const job = event.job;
      if (!job) return true;
      const type = JobEventType[event.type].toLowerCase();
      const fields = [
        new Date().toISOString(),
        type.padEnd(8),
        job.id.slice(0, SHORT_ID_LENGTH),
        terminalSafe(job.name) || "-",
        stateName(job),
        outcome(job),
      ];
      return writeStdout(Buffer.from(`${fields.filter(Boolean).join("  ")}\n`));
    });
  }
}
