import type { Job } from "@jobworker/proto";
import { CliError } from "../cli-error.js";
import type { JobClient } from "../connection/client.js";
import { exitCodeOf } from "../format/exit-code.js";
import { writeStdout } from "../output-writer.js";
import { DetachMatcher } from "./detach-keys.js";
import { InputQueue } from "./input-queue.js";

/** What a session sends after its first message: the same in AttachJob and ExecJob. */
export type SessionAction =
  | { case: "input"; value: Uint8Array }
  | { case: "resize"; value: { rows: number; columns: number } }
  | { case: "closeInput"; value: Record<string, never> };

/** What a session receives: output for stdout or stderr, then how it ended. */
export type SessionEvent = { kind: "stdout" | "stderr"; data: Uint8Array } | { kind: "end"; end: SessionEnd };

/** Opens the call: the session's actions go out, its events come back. */
export type OpenSession = (actions: AsyncIterable<SessionAction>, signal: AbortSignal) => AsyncIterable<SessionEvent>;

/** How an interactive session is joined. */
export interface SessionOptions {
  id: string;
  /** Send this process's stdin to the job; its EOF closes the job's stdin. */
  stdin: boolean;
  /** The job has a terminal: raw mode, window size, detach keys. */
  tty: boolean;
  /** The detach sequence (under `tty`). */
  detachKeys: Uint8Array;
}

/** How a session ended: with the job (or the exec'd process), by the detach keys, or by Ctrl-C (without a terminal). */
export type SessionEnd =
  | { kind: "ended"; job: Job }
  | { kind: "exited"; exitCode: number }
  | { kind: "detached" }
  | { kind: "interrupted" };

/** AttachJob as a session: output from `fromOffset` (undefined: the current end), then the job's end. */
export function attachSession(client: JobClient, id: string, fromOffset?: bigint): OpenSession {
  return async function* (actions, signal) {
    async function* messages() {
      yield { action: { case: "start" as const, value: { id, fromOffset } } };
      for await (const action of actions) yield { action };
    }
    for await (const response of client.attachJob(messages(), { signal })) {
      const { event } = response;
      if (event.case === "output") yield { kind: "stdout", data: event.value.data };
      else if (event.case === "ended") yield { kind: "end", end: { kind: "ended", job: event.value } };
    }
  };
}

/**
 * Joins a job through AttachJob: its output goes to stdout byte for byte,
 * this terminal's keys (or piped stdin) go to the job, no faster than it reads
 * them. Under a terminal, the local terminal is in raw mode (Ctrl-C goes to
 * the job), its size follows the window, and the detach keys leave the job running.
 */
export async function runSession(open: OpenSession, options: SessionOptions): Promise<SessionEnd> {
  const stdin = process.stdin;
  const abort = new AbortController();
  let end: SessionEnd | undefined;
  const leave = (how: SessionEnd) => {
    end ??= how;
    abort.abort();
  };
  const queue = new InputQueue<SessionAction>(
    () => stdin.pause(),
    () => options.stdin && !stdin.readableEnded && stdin.resume(),
  );

  const undo: (() => void)[] = [];
  const on = <A extends unknown[]>(emitter: NodeJS.EventEmitter, event: string, listener: (...args: A) => void) => {
    emitter.on(event, listener);
    undo.push(() => emitter.off(event, listener));
  };
  const sendSize = () => {
    if (process.stdout.rows && process.stdout.columns) {
      queue.push({ case: "resize", value: { rows: process.stdout.rows, columns: process.stdout.columns } });
    }
  };
  if (options.tty && process.stdout.isTTY) {
    sendSize();
    on(process.stdout, "resize", sendSize);
  }
  if (options.stdin) {
    const matcher = new DetachMatcher(options.tty ? options.detachKeys : new Uint8Array(0));
    if (options.tty && stdin.isTTY) {
      stdin.setRawMode(true);
      undo.push(() => stdin.setRawMode(false));
    }
    on(stdin, "data", (data: Buffer) => {
      const { send, detach } = matcher.feed(data);
      if (send.length > 0) queue.push({ case: "input", value: send });
      if (detach) leave({ kind: "detached" });
    });
    on(stdin, "end", () => {
      queue.push({ case: "closeInput", value: {} });
      queue.end();
    });
    stdin.resume();
  } else {
    queue.end();
  }
  // Without a terminal in raw mode, Ctrl-C reaches this process: it detaches, as `start -f` does.
  const interrupt = () => leave({ kind: "interrupted" });
  on(process, "SIGINT", interrupt);

  try {
    for await (const event of open(queue, abort.signal)) {
      if (event.kind === "end") {
        end ??= event.end;
      } else if (event.kind === "stdout") {
        if (!(await writeStdout(event.data))) leave({ kind: "interrupted" });
      } else {
        process.stderr.write(event.data);
      }
    }
  } catch (error) {
    if (!abort.signal.aborted) throw error;
  } finally {
    for (const step of undo.reverse()) step();
    stdin.pause();
  }
  if (!end) {
    throw new CliError(
      "JW_ERR_UNKNOWN",
      `the server ended the attach without the job's end; see 'runjob status ${options.id}'`,
    );
  }
  return end;
}

/**
 * What a session's end means for the CLI: the job's exit code when it ended
 * (as `docker run`), 0 after a detach and 130 after Ctrl-C, each with a line
 * on stderr saying how to get back in.
 */
export function sessionExitCode(end: SessionEnd, id: string, bin: string): number {
  if (end.kind === "ended") return exitCodeOf(end.job);
  if (end.kind === "exited") return end.exitCode;
  // Raw mode left the cursor wherever the job put it: start the message on a line of its own.
  const how = end.kind === "detached" ? "detached" : "interrupted";
  process.stderr.write(
    `\r\n${how}; job ${id} keeps running.\n  attach: ${bin} attach ${id}\n  stop:   ${bin} stop ${id}\n`,
  );
  return end.kind === "detached" ? 0 : 130;
}
