import { Args, Flags } from "@oclif/core";
import { JobCommand } from "../base-command.js";
import { Reconnector, reconnectFlag } from "../connection/reconnect.js";
import { JOB_REF_DESCRIPTION, resolveJobId } from "../job-id.js";
import { interruptSignal, streamToStdout } from "../stream-to-stdout.js";

export default class Logs extends JobCommand<typeof Logs> {
  static override summary = "Write a job's output (stdout and stderr, as written) to stdout, byte for byte.";
  static override description =
    "From the first byte, or --from-offset. With --follow, keeps streaming until the job ends. Ctrl-C stops cleanly.\nWhen the server restarts, reconnects (see --reconnect) and resumes after the last byte written.";
  static override examples = [
    "<%= config.bin %> logs 3f2a9c",
    "<%= config.bin %> logs -f 3f2a9c",
    "<%= config.bin %> logs 3f2a9c | sha256sum",
    "<%= config.bin %> logs --from-offset 1048576 3f2a9c",
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
      { id, fromOffset: BigInt(this.flags["from-offset"]), follow: this.flags.follow },
      signal,
      reconnector,
    );
  }
}
