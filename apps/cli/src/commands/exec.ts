import { Args, Flags } from "@oclif/core";
import { JobCommand } from "../base-command.js";
import { CliError } from "../cli-error.js";
import type { JobClient } from "../connection/client.js";
import { type OpenSession, runSession } from "../interactive/session.js";
import { resolveJobId } from "../job-id.js";

export default class Exec extends JobCommand<typeof Exec> {
  static override summary = "Run another process inside a running job; its exit code is runjob's.";
  static override description = `The process runs in the job's namespaces (its hostname, its processes in sight, its
filesystem view), in its cgroup and limits, as its user under its seccomp filter, in its working
directory. Its environment is its own: PATH, HOME and TMPDIR as for a job, plus --env.
With -i, stdin goes to it; with -t, it gets a terminal and this one goes raw. Ending runjob ends it.`;
  static override examples = [
    "<%= config.bin %> exec 3f2a9c -- hostname",
    "<%= config.bin %> exec -it 3f2a9c -- /bin/sh",
    "<%= config.bin %> exec 3f2a9c -- ps -ef",
  ];
  static override strict = false;
  static override enableJsonFlag = false;
  static override args = {
    id: Args.string({ description: "job id or a unique prefix of at least 6 characters", required: true }),
    command: Args.string({ description: "command to run, then its arguments (after --)", required: true }),
  };
  static override flags = {
    interactive: Flags.boolean({ char: "i", summary: "Send this stdin to the process; its EOF closes the process's." }),
    tty: Flags.boolean({ char: "t", summary: "Give the process a terminal of this window's size; this one goes raw." }),
    env: Flags.string({
      char: "e",
      summary: "Environment variable K=V (repeatable).",
      multiple: true,
      multipleNonGreedy: true,
    }),
  };

  async run(): Promise<void> {
    const [, command, ...args] = this.argvRest;
    if (!command)
      throw new CliError("JW_ERR_USAGE", "no command given: runjob exec [flags] <id> -- <command> [args...]");
    const env: Record<string, string> = {};
    for (const pair of this.flags.env ?? []) {
      const equals = pair.indexOf("=");
      if (equals <= 0) throw new CliError("JW_ERR_USAGE", `--env ${JSON.stringify(pair)} must be NAME=VALUE`);
      env[pair.slice(0, equals)] = pair.slice(equals + 1);
    }
    const client = await this.client();
    const id = await resolveJobId(client, this.args.id);
    const tty = this.flags.tty;
    const terminalSize =
      tty && process.stdout.isTTY ? { rows: process.stdout.rows, columns: process.stdout.columns } : undefined;
    const open = execSession(client, { id, command, args, env, tty, terminalSize });
    const end = await runSession(open, {
      id,
      stdin: this.flags.interactive || tty,
      tty,
      detachKeys: new Uint8Array(0), // an exec ends with its client: there is nothing to detach from
    });
    this.exit(end.kind === "exited" ? end.exitCode : 130);
  }
}

/** ExecJob as a session: the process's stdout and stderr, then its exit code (128+signal as a shell's). */
function execSession(
  client: JobClient,
  start: {
    id: string;
    command: string;
    args: string[];
    env: Record<string, string>;
    tty: boolean;
    terminalSize?: { rows: number; columns: number };
  },
): OpenSession {
  return async function* (actions, signal) {
    async function* messages() {
      yield { action: { case: "start" as const, value: start } };
      for await (const action of actions) yield { action };
    }
    for await (const response of client.execJob(messages(), { signal })) {
      const { event } = response;
      if (event.case === "stdout" || event.case === "stderr") yield { kind: event.case, data: event.value };
      else if (event.case === "exit") {
        const { exitCode, signal: killedBy } = event.value;
        yield {
          kind: "end",
          end: { kind: "exited", exitCode: killedBy !== undefined ? 128 + killedBy : (exitCode ?? 125) },
        };
      }
    }
  };
}
