import { JobChannel } from "@jobworker/helper";
import { failedPrecondition, JobError } from "../errors.js";
import type { TerminalSize } from "../job.js";

/**
 * Input to one running job, through its launcher's attach socket: bytes for
 * its stdin (or terminal), the end of its stdin, its terminal's window size
 * and signals for its main process. Get one from `JobManager.openInput`;
 * `release` it when done (the job's stdin stays open for the next one).
 */
export interface JobInput {
  /**
   * Sends bytes to the job's stdin. Resolves once the job's launcher has taken
   * them: await each write, and a job that does not read holds back the writer,
   * never this process's memory.
   */
  write(data: Uint8Array): Promise<void>;
  /** The job reads EOF once what was written before has been read (a terminal gets its EOF character). */
  closeInput(): Promise<void>;
  /** Sets the job's terminal's window size; the job gets SIGWINCH. */
  resize(size: TerminalSize): Promise<void>;
  /** Sends a signal (by number) to the job's main process. Not held up by input the job has not read. */
  signal(signal: number): Promise<void>;
  /** Closes the connections. */
  release(): void;
}

/**
 * Connects to a job's launcher. Input goes on one connection and signals and
 * resizes on another: messages on a connection are handled in order, and a
 * Ctrl-C must not wait behind input the job is not reading.
 */
export async function connectJobInput(jobDir: string, id: string): Promise<JobInput> {
  const input = await connect(jobDir, id);
  let control: Promise<JobChannel> | undefined;
  const controlChannel = () => {
    control ??= connect(jobDir, id);
    return control;
  };
  return {
    write: (data) => input.write(data).catch((error) => rethrow(error, id)),
    closeInput: () => input.closeInput().catch((error) => rethrow(error, id)),
    resize: async (size) => (await controlChannel()).resize(size).catch((error) => rethrow(error, id)),
    signal: async (signal) => (await controlChannel()).signal(signal).catch((error) => rethrow(error, id)),
    release: () => {
      input.close();
      control?.then(
        (channel) => channel.close(),
        () => {},
      );
    },
  };
}

async function connect(jobDir: string, id: string): Promise<JobChannel> {
  return JobChannel.connect(jobDir).catch((error) => rethrow(error, id));
}

/** No launcher listening, or one that went away: the job has ended (or is ending). */
function rethrow(error: unknown, id: string): never {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "ECONNREFUSED" || code === "EPIPE" || code === "ECONNRESET") {
    throw failedPrecondition(`job ${id} has ended`);
  }
  // The launcher's queue of connections is full: as many clients as it serves are attached already.
  if (code === "EAGAIN") throw tooManyClients(id);
  throw error;
}

/** Refused because the job already has as many clients attached as its launcher serves. */
export function tooManyClients(id: string): JobError {
  return new JobError("resource_exhausted", `job ${id} has as many clients attached as it takes; detach one first`);
}
