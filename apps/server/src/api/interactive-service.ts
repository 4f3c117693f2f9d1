import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { isJobError, type JobExec, type JobInput, type JobManager, type JobScope, parseSignal } from "@jobworker/core";
import {
  type AttachJobRequest,
  AttachJobResponseSchema,
  type ExecJobRequest,
  ExecJobResponseSchema,
  type JobService,
} from "@jobworker/proto";
import { interruption } from "../interruption.js";
import type { StreamTracker } from "../limits/stream-tracker.js";
import { auditArgs, requestLogKey } from "../logging/request-log.js";
import { callerOf, scopeOf } from "../tls/authorization.js";
import { apiError } from "./errors.js";
import { jobIdFromProto } from "./from-proto.js";
import { jobToProto } from "./to-proto.js";

/** Most bytes one WriteJobInput call may carry. */
export const MAX_INPUT_CALL_BYTES = 1024 * 1024;

type InteractiveHandlers = Pick<
  ServiceImpl<typeof JobService>,
  "attachJob" | "writeJobInput" | "resizeJobTerminal" | "signalJob" | "execJob"
>;

/**
 * The RPCs of interactive jobs: AttachJob (a bidirectional stream) and the
 * unary calls that do the same for clients without a client stream. Input is
 * never logged; each call is an audit line naming the job.
 */
export function interactiveService(manager: JobManager, streams: StreamTracker): InteractiveHandlers {
  const unaryInputs = new SharedInputs(manager);
  return {
    async *attachJob(requests, context) {
      const iterator = requests[Symbol.asyncIterator]();
      const first = await iterator.next();
      if (first.done || first.value.action.case !== "start") {
        throw apiError("JW_ERR_INVALID_ARGUMENT", "the first message of AttachJob must be start, naming the job");
      }
      const start = first.value.action.value;
      const id = jobIdFromProto(start.id);
      const scope = scopeOf(context);
      const job = manager.get(id, scope);
      if (start.fromOffset !== undefined && start.fromOffset > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw apiError("JW_ERR_INVALID_ARGUMENT", "from_offset is out of range");
      }
      context.values.get(requestLogKey).audit("attach", { job: id });
      // Without an offset: from the current end, as a terminal joined late shows what comes next.
      const fromOffset = start.fromOffset === undefined ? job.outputBytes : Number(start.fromOffset);
      const stop = new AbortController();
      const signal = AbortSignal.any([context.signal, stop.signal]);
      const log = context.values.get(requestLogKey);
      const actions = new AttachActions(manager, id, scope, (name) => log.audit("signal", { job: id, signal: name }));
      let failure: unknown;
      // The client's messages are applied alongside the output; a failure there ends the output too.
      void actions.applyAll(iterator).catch((error: unknown) => {
        failure = error;
        stop.abort(error);
      });
      try {
        const chunks = manager.openOutput(id, scope, { fromOffset, follow: true, signal });
        for await (const chunk of streams.track(callerOf(context).name, chunks)) {
          yield create(AttachJobResponseSchema, {
            event: { case: "output", value: { offset: BigInt(chunk.offset), data: chunk.data } },
          });
        }
        if (failure !== undefined) throw failure;
        if (context.signal.aborted) throw interruption(context.signal.reason);
        const ended = await manager.wait(id, scope, context.signal);
        yield create(AttachJobResponseSchema, { event: { case: "ended", value: jobToProto(ended) } });
      } finally {
        actions.release();
      }
    },

    async *execJob(requests, context) {
      const iterator = requests[Symbol.asyncIterator]();
      const first = await iterator.next();
      if (first.done || first.value.action.case !== "start") {
        throw apiError(
          "JW_ERR_INVALID_ARGUMENT",
          "the first message of ExecJob must be start, naming the job and command",
        );
      }
      const start = first.value.action.value;
      const id = jobIdFromProto(start.id);
      const scope = scopeOf(context);
      manager.get(id, scope);
      context.values
        .get(requestLogKey)
        .audit("exec", { job: id, command: start.command, ...auditArgs(start.args), tty: start.tty });
      const exec = await manager.exec(id, scope, {
        command: start.command,
        args: start.args,
        env: start.env,
        tty: start.tty,
        terminalSize: start.terminalSize
          ? { rows: start.terminalSize.rows, columns: start.terminalSize.columns }
          : undefined,
      });
      let failure: unknown;
      const log = context.values.get(requestLogKey);
      const auditSignal = (signal: string) => log.audit("signal", { job: id, exec: start.command, signal });
      void applyExecActions(exec, iterator, auditSignal).catch((error: unknown) => {
        failure = error;
        exec.release(); // the process goes with the connection, and its events end
      });
      // The client going away ends the process: releasing the connection kills it.
      const onAbort = () => exec.release();
      context.signal.addEventListener("abort", onAbort, { once: true });
      try {
        // Counted with the caller's output streams: each exec holds a process and a connection.
        for await (const event of streams.track(callerOf(context).name, exec.events())) {
          if (event.kind === "exit") {
            yield create(ExecJobResponseSchema, {
              event: { case: "exit", value: { exitCode: event.exitCode, signal: event.signal } },
            });
            return;
          }
          yield create(ExecJobResponseSchema, { event: { case: event.kind, value: event.data } });
        }
      } catch (error) {
        if (failure !== undefined) throw failure;
        if (context.signal.aborted) throw interruption(context.signal.reason);
        throw error;
      } finally {
        context.signal.removeEventListener("abort", onAbort);
        exec.release();
      }
    },

    async writeJobInput(request, context) {
      const id = jobIdFromProto(request.id);
      if (request.data.length > MAX_INPUT_CALL_BYTES) {
        throw apiError("JW_ERR_INVALID_ARGUMENT", `at most ${MAX_INPUT_CALL_BYTES} bytes of input per call`);
      }
      const scope = scopeOf(context);
      manager.get(id, scope);
      context.values.get(requestLogKey).audit("write", { job: id, bytes: request.data.length, close: request.close });
      await unaryInputs.write(id, scope, request.data, request.close, context.signal);
      return {};
    },

    async resizeJobTerminal(request, context) {
      const id = jobIdFromProto(request.id);
      if (!request.size) throw apiError("JW_ERR_INVALID_ARGUMENT", "size is required");
      const size = { rows: request.size.rows, columns: request.size.columns };
      context.values.get(requestLogKey).audit("resize", { job: id, ...size });
      await manager.resize(id, scopeOf(context), size);
      return {};
    },

    async signalJob(request, context) {
      const id = jobIdFromProto(request.id);
      const signal = request.signal || "SIGTERM";
      context.values.get(requestLogKey).audit("signal", { job: id, signal });
      await manager.signal(id, scopeOf(context), signal);
      return {};
    },
  };
}

/**
 * Applies an attached client's messages, in order, one at a time: the next is
 * not read until the job's launcher has taken the input before it, so a job
 * that does not read holds back the client (HTTP/2 flow control), never this
 * server's memory.
 */
class AttachActions {
  private input?: Promise<JobInput>;

  constructor(
    private readonly manager: JobManager,
    private readonly id: string,
    private readonly scope: JobScope,
    private readonly auditSignal: (signal: string) => void,
  ) {}

  async applyAll(requests: AsyncIterator<AttachJobRequest>): Promise<void> {
    for (;;) {
      const next = await requests.next();
      if (next.done) return;
      await this.apply(next.value).catch((error: unknown) => {
        // Typing into a job that has just ended is no failure of the attach: its end comes next.
        if (isJobError(error) && error.code === "failed_precondition" && this.isEnding(next.value)) return;
        throw error;
      });
    }
  }

  release(): void {
    this.input?.then(
      (input) => input.release(),
      () => {},
    );
  }

  private async apply(request: AttachJobRequest): Promise<void> {
    const { action } = request;
    switch (action.case) {
      case "input":
        return (await this.openInput()).write(action.value);
      case "closeInput":
        return (await this.openInput()).closeInput();
      case "resize":
        return this.manager.resize(this.id, this.scope, { rows: action.value.rows, columns: action.value.columns });
      case "signal":
        this.auditSignal(action.value);
        return this.manager.signal(this.id, this.scope, action.value);
      case "start":
        throw apiError("JW_ERR_INVALID_ARGUMENT", "start may only be the first message of AttachJob");
      default:
        throw apiError("JW_ERR_INVALID_ARGUMENT", "an AttachJob message must carry an action");
    }
  }

  private openInput(): Promise<JobInput> {
    this.input ??= this.manager.openInput(this.id, this.scope);
    return this.input;
  }

  /**
   * Whether `request` failed because the job has ended or is ending. The
   * launcher closes its attach socket as the job exits, a moment before the
   * server records the end: input to a job that takes input, refused while it
   * still reads as running, means its end is on the way.
   */
  private isEnding(request: AttachJobRequest): boolean {
    const job = this.manager.get(this.id, this.scope);
    if (job.state === "ended") return true;
    const isInput = request.action.case === "input" || request.action.case === "closeInput";
    return isInput && job.state !== "starting" && job.stdin === true;
  }
}

/** A window size the kernel's u16 fields hold, or INVALID_ARGUMENT. */
function validateTerminalSize(size: { rows: number; columns: number }): void {
  if (size.rows < 1 || size.rows > 65_535 || size.columns < 1 || size.columns > 65_535) {
    throw apiError("JW_ERR_INVALID_ARGUMENT", "terminal rows and columns must be between 1 and 65535");
  }
}

/** Applies an exec client's messages to its process, in order, one at a time (as AttachActions does). */
async function applyExecActions(
  exec: JobExec,
  requests: AsyncIterator<ExecJobRequest>,
  auditSignal: (signal: string) => void,
): Promise<void> {
  for (;;) {
    const next = await requests.next();
    if (next.done) return;
    const { action } = next.value;
    switch (action.case) {
      case "input":
        await exec.write(action.value);
        break;
      case "closeInput":
        await exec.closeInput();
        break;
      case "resize":
        validateTerminalSize(action.value);
        await exec.resize({ rows: action.value.rows, columns: action.value.columns });
        break;
      case "signal":
        auditSignal(action.value);
        await exec.signal(parseSignal(action.value));
        break;
      default:
        throw apiError(
          "JW_ERR_INVALID_ARGUMENT",
          "after start, an ExecJob message must carry input, resize, signal or close_input",
        );
    }
  }
}

/**
 * One input connection per job for the unary WriteJobInput calls, so that
 * consecutive calls reach the job in the order they were made (separate
 * connections could be read in either order). Calls for one job run one after
 * the other; the connection goes when the job ends.
 */
class SharedInputs {
  private readonly inputs = new Map<string, { input: Promise<JobInput>; queue: Promise<void> }>();

  constructor(private readonly manager: JobManager) {}

  write(id: string, scope: JobScope, data: Uint8Array, close: boolean, signal: AbortSignal): Promise<void> {
    const entry = this.entryFor(id, scope);
    const done = entry.queue.then(async () => {
      signal.throwIfAborted();
      const input = await entry.input;
      if (data.length > 0) await input.write(data);
      // A job may end on the input just written (it read its last line): its stdin is gone with it,
      // and closing it is moot. The write itself resolved once the job's launcher took the bytes.
      if (close) await input.closeInput().catch((error: unknown) => endedMeanwhile(error));
    });
    entry.queue = done.catch(() => {});
    return done;
  }

  private entryFor(id: string, scope: JobScope) {
    const existing = this.inputs.get(id);
    if (existing) return existing;
    const input = this.manager.openInput(id, scope);
    const entry = { input, queue: Promise.resolve() };
    this.inputs.set(id, entry);
    const forget = () => {
      this.inputs.delete(id);
      input.then(
        (opened) => opened.release(),
        () => {},
      );
    };
    // A failed open is forgotten at once (the next call tries again); an open one at the job's end.
    input.then(() => this.manager.wait(id, { allOwners: true }).then(forget, forget), forget);
    return entry;
  }
}

/** A close of a job's stdin that found the job gone: done, not a failure. */
function endedMeanwhile(error: unknown): void {
  if (isJobError(error) && error.code === "failed_precondition") return;
  throw error;
}
