import { JobState } from "@jobworker/proto";
import { Args, Flags } from "@oclif/core";
import { JobCommand } from "../base-command.js";
import { CliError } from "../cli-error.js";
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from "../interactive/detach-keys.js";
import { attachSession, runSession, sessionExitCode } from "../interactive/session.js";
import { resolveJobId } from "../job-id.js";
import { jobOf } from "../job-of.js";

export default class Attach extends JobCommand<typeof Attach> {
  static override summary = "Join a running job's terminal or stdin, from the current end of its output.";
  static override description = `A job started with -t: this terminal goes raw and its keys go to the job (Ctrl-C too);
the detach keys (Ctrl-P Ctrl-Q, see --detach-keys) leave it running. A job started with -i:
stdin goes to the job. Without either, the output is shown. Exits with the job's code when it ends.`;
  static override examples = [
    "<%= config.bin %> attach 3f2a9c",
    "<%= config.bin %> attach --detach-keys ctrl-x 3f2a9c",
  ];
  static override enableJsonFlag = false;
  static override args = {
    id: Args.string({ description: "job id or a unique prefix of at least 6 characters", required: true }),
  };
  static override flags = {
    "detach-keys": Flags.string({ summary: `Keys that leave the job running (default ${DEFAULT_DETACH_KEYS}).` }),
    "no-stdin": Flags.boolean({ summary: "Only show the output; send nothing to the job." }),
  };

  async run(): Promise<void> {
    const detachKeys = parseDetachKeys(this.flags["detach-keys"] ?? DEFAULT_DETACH_KEYS);
    const client = await this.client();
    const id = await resolveJobId(client, this.args.id);
    const job = jobOf(await client.getJob({ id }));
    if (job.state === JobState.ENDED) {
      throw new CliError("JW_ERR_FAILED_PRECONDITION", `job ${id} has ended; see its output with 'runjob logs ${id}'`);
    }
    if (job.tty)
      process.stderr.write(`attached to job ${id}; detach with ${this.flags["detach-keys"] ?? "Ctrl-P Ctrl-Q"}\r\n`);
    const end = await runSession(attachSession(client, id), {
      id,
      stdin: job.stdin && !this.flags["no-stdin"],
      tty: job.tty,
      detachKeys,
    });
    this.exit(sessionExitCode(end, id, this.config.bin));
  }
}
