import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Args, Flags } from "@oclif/core";
import { JobCommand } from "../base-command.js";
import { Reconnector, reconnectFlag } from "../connection/reconnect.js";
import { JOB_REF_DESCRIPTION, resolveJobId } from "../job-id.js";
import { interruptSignal, streamToStdout } from "../stream-to-stdout.js";
import { parseSince } from "../units.js";

export default class Logs extends JobCommand<typeof Logs> {
  static override summary = "Write a job's output (stdout and stderr, as written) to stdout, byte for byte.";
  static override description = `From the first byte, or --from-offset, or the last --tail lines (read from the end of
the log, not streamed through), or the first output since --since. With --follow, keeps
streaming until the job ends (after --tail too). Ctrl-C stops cleanly.
--since and --timestamps use the server's time index: a time is when the server learned
of the output, to within about 100 ms (docs/api.md).
When the server restarts, reconnects (see --reconnect) and resumes after the last byte written.`;
  static override examples = [
    "<%= config.bin %> logs 3f2a9c",
    "<%= config.bin %> logs -f 3f2a9c",
    "<%= config.bin %> logs 3f2a9c | sha256sum",
    "<%= config.bin %> logs --from-offset 1048576 3f2a9c",
    "<%= config.bin %> logs --tail 100 -f build-42",
    "<%= config.bin %> logs --since 10m -t build-42",
    "<%= config.bin %> logs --since 2026-11-29T10:00:00Z build-42",
  ];
  static override enableJsonFlag = false;
  static override args = {
    id: Args.string({ description: JOB_REF_DESCRIPTION, required: true }),
  };
  static override flags = {
    follow: Flags.boolean({ char: "f", summary: "Keep streaming new output until the job ends.", allowNo: true }),
    "from-offset": Flags.integer({
      summary: "Start at this byte offset (to resume where a stream left off).",
      min: 0,
      default: 0,
    }),
    tail: Flags.integer({ summary: "Only the last N lines (a last line without a newline counts).", min: 0 }),
    since: Flags.string({
      summary: "Only output since a time: a duration ago (10m, 2h) or RFC 3339 (2026-11-29T10:00:00Z).",
    }),
    timestamps: Flags.boolean({ char: "t", summary: "Put the time the server learned of each line before it." }),
    reconnect: reconnectFlag,
  };

  async run(): Promise<void> {
    const { signal } = interruptSignal();
    const reconnector = Reconnector.fromFlag(this.flags.reconnect, signal);
    this.reconnector = reconnector;
    const client = await this.client();
    const id = await resolveJobId(client, this.args.id);
    await streamToStdout(
      client,
      {
        id,
        fromOffset: BigInt(this.flags["from-offset"]),
        follow: this.flags.follow ?? false,
        tailLines: this.flags.tail === undefined ? undefined : BigInt(this.flags.tail),
        since: this.flags.since === undefined ? undefined : timestampFromMs(parseSince(this.flags.since)),
        timestamps: this.flags.timestamps,
      },
      signal,
      reconnector,
    );
  }
}
