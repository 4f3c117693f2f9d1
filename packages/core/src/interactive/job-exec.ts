import { JobChannel, LaunchError } from "@jobworker/helper";
import { invalidArgument, JobError } from "../errors.js";
import type { TerminalSize } from "../job.js";
import { jobEnvironment } from "../lifecycle/job-environment.js";
import { validateTerminalSize } from "../lifecycle/validate.js";
import { JOB_WORK_DIR } from "../sandbox/filesystem-view.js";
import { type JobInput, tooManyClients } from "./job-input.js";

/** Another process to run in a running job (`JobManager.exec`). */
export interface ExecRequest {
  /** A path, or a name looked up in the env's PATH (the job's default PATH unless given). */
  command: string;
  /** Its arguments after the command, unchanged (no shell). */
  args?: string[];
  /** Its environment: PATH, HOME and TMPDIR get the job's defaults when absent. Nothing else is inherited. */
  env?: Record<string, string>;
  /** Give it a terminal of the job's devpts (stdout and stderr are then one stream). */
  tty?: boolean;
  /** The terminal's first size. Default 24 x 80. */
  terminalSize?: TerminalSize;
}

/** What an exec'd process does: output, in order, then how it ended. */
export type ExecEvent =
  | { kind: "stdout" | "stderr"; data: Uint8Array }
  | { kind: "exit"; exitCode?: number; signal?: number };

/**
 * A process running in a job: input as for the job itself (see JobInput),
 * and its events. It runs in the job's namespaces, cgroups, uid and seccomp
 * filter, in its working directory. Releasing it kills the process.
 */
export interface JobExec extends JobInput {
  /** Its output, then its end; read it, or the process waits for the reader. */
  events(): AsyncGenerator<ExecEvent>;
}

/** Most bytes an exec request takes (its command, args and env), as the launcher's message size allows. */
const MAX_REQUEST_BYTES = 16_000;

/** Starts `request` in the job whose launcher listens in `jobDir`. */
export async function startExec(jobDir: string, id: string, request: ExecRequest): Promise<JobExec> {
  if (!request.command) throw invalidArgument("command must not be empty");
  const args = request.args ?? [];
  const env = jobEnvironment(request.env, JOB_WORK_DIR);
  const strings = [request.command, ...args, ...Object.entries(env).flat()];
  if (strings.some((text) => text.includes("\0")))
    throw invalidArgument("command, args and env must not contain NUL bytes");
  if (Object.keys(env).some((name) => !name || name.includes("="))) {
    throw invalidArgument('environment names must not be empty or contain "="');
  }
  const bytes = strings.reduce((sum, text) => sum + Buffer.byteLength(text) + 1, 0);
  if (bytes > MAX_REQUEST_BYTES) {
    throw invalidArgument(`an exec's command, args and env may be at most ${MAX_REQUEST_BYTES} bytes, got ${bytes}`);
  }
  const terminalSize = request.tty ? (request.terminalSize ?? { rows: 24, columns: 80 }) : undefined;
  if (terminalSize) validateTerminalSize(terminalSize);
  const channel = await JobChannel.connect(jobDir).catch((error: unknown) => {
    throw ended(error, id);
  });
  await channel.exec({ argv: [request.command, ...args], env, terminalSize });
  const guard = <T>(call: Promise<T>) =>
    call.catch((error: unknown) => {
      throw ended(error, id);
    });
  return {
    write: (data) => guard(channel.write(data)),
    closeInput: () => guard(channel.closeInput()),
    resize: (size) => guard(channel.resize(size)),
    signal: (signal) => guard(channel.signal(signal)),
    release: () => channel.close(),
    async *events() {
      for await (const event of channel.execEvents()) {
        if (event.kind === "failed") throw execFailure(new LaunchError(event.errno, event.what), request.command);
        if (event.kind !== "exit") {
          yield event;
          continue;
        }
        const status = event.status;
        // A wait status: the low 7 bits are the signal that ended it, or 0 and the code above them.
        yield (status & 0x7f) === 0
          ? { kind: "exit", exitCode: (status >> 8) & 0xff }
          : { kind: "exit", signal: status & 0x7f };
      }
    },
  };
}

function execFailure(error: LaunchError, command: string): JobError {
  if (error.isExecFailure) return invalidArgument(`cannot execute ${command} in the job: ${error.errno}`);
  if (error.isWorkdirFailure) return invalidArgument(`the job's working directory cannot be entered: ${error.errno}`);
  return new JobError("internal", error.message, { cause: error });
}

function ended(error: unknown, id: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "ECONNREFUSED" || code === "EPIPE" || code === "ECONNRESET") {
    return new JobError("failed_precondition", `job ${id} has ended`);
  }
  if (code === "EAGAIN") return tooManyClients(id);
  return error;
}
