import { createHash, randomUUID } from "node:crypto";
import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { toConnectError } from "../api/errors.js";
import { interruption } from "../interruption.js";
import type { Metrics } from "../metrics.js";
import { identityKey } from "../tls/identity.js";

/** Per-request logging handle given to handlers. */
export interface RequestLog {
  requestId: string;
  /** Writes an audit line: who did what to which job. */
  audit(
    action: "start" | "submit" | "stop" | "delete" | "clean" | "attach" | "write" | "resize" | "signal" | "exec",
    fields: Record<string, unknown>,
  ): void;
}

export const requestLogKey = createContextKey<RequestLog>({ requestId: "", audit: () => {} });

/** Most bytes of a job's arguments an audit line quotes. */
const AUDIT_ARGS_BYTES = 1024;

/**
 * A job's arguments as an audit line quotes them: whole when short, else cut
 * to about 1 KiB with what was left out counted. A request may carry 1 MiB of
 * arguments; logged whole, every start would be a megabyte of log, and a line
 * that long is no longer one atomic write to the log's pipe.
 */
export function auditArgs(args: readonly string[]): { args: string[]; argsOmittedBytes?: number } {
  const kept: string[] = [];
  let budget = AUDIT_ARGS_BYTES;
  let omitted = 0;
  for (const arg of args) {
    const bytes = Buffer.byteLength(arg);
    if (budget <= 0) {
      omitted += bytes;
    } else if (bytes <= budget) {
      kept.push(arg);
      budget -= bytes;
    } else {
      const cut = Buffer.from(arg).subarray(0, budget).toString("utf8");
      kept.push(cut);
      omitted += bytes - Buffer.byteLength(cut);
      budget = 0;
    }
  }
  return omitted > 0 ? { args: kept, argsOmittedBytes: omitted } : { args: kept };
}

/**
 * A job's arguments as the audit log records them: by default their count and
 * a digest (arguments may carry secrets, and the log is read by more people
 * than the jobs are), or with `--audit-args` the arguments themselves, cut as
 * auditArgs does. The digest is the SHA-256 of the arguments as a JSON array,
 * so an operator holding the arguments can check that they match.
 */
export function auditedArgs(args: readonly string[], quote: boolean): Record<string, unknown> {
  if (quote) return auditArgs(args);
  return { argCount: args.length, argsSha256: createHash("sha256").update(JSON.stringify(args)).digest("hex") };
}

/**
 * Outermost interceptor: gives each request an id, logs one line per RPC with
 * caller, method, code and duration, records the latency histogram, and turns
 * every error into the Connect error the client may see. An audit line's
 * `args` field is recorded by auditedArgs.
 */
export function requestLogging(logger: Logger, metrics: Metrics, options: { auditArgs?: boolean } = {}): Interceptor {
  return (next) => async (request) => {
    const started = performance.now();
    const requestId = randomUUID();
    const identity = request.contextValues.get(identityKey);
    // The fields every line of this request starts with. Not a child logger: that serializes
    // its bindings when it is made, and most requests log one line.
    const about = {
      requestId,
      caller: "name" in identity ? identity.name : undefined,
      role: "role" in identity ? identity.role : undefined,
      rpc: request.method.name,
    };
    request.contextValues.set(requestLogKey, {
      requestId,
      audit: (action, { args, ...fields }) => {
        const recorded = Array.isArray(args) ? auditedArgs(args.map(String), options.auditArgs === true) : {};
        logger.info({ ...about, audit: action, ...fields, ...recorded }, `audit: ${action}`);
      },
    });
    const finish = (error?: unknown): ConnectError | undefined => {
      const connectError = error === undefined ? undefined : toConnectError(error, requestId);
      const code = connectError ? Code[connectError.code] : "OK";
      const durationMs = performance.now() - started;
      metrics.rpcDuration.observe({ rpc: request.method.name, code }, durationMs / 1000);
      if (connectError?.code === Code.Internal) logger.error({ ...about, err: error, code, durationMs }, "rpc failed");
      else logger.info({ ...about, code, durationMs }, connectError ? `rpc: ${connectError.rawMessage}` : "rpc");
      return connectError;
    };
    try {
      const response = await next(request);
      if (!response.stream) {
        finish();
        return response;
      }
      return { ...response, message: logStreamEnd(response.message, finish, request.signal) };
    } catch (error) {
      throw finish(error);
    }
  };
}

async function* logStreamEnd<T>(
  messages: AsyncIterable<T>,
  finish: (error?: unknown) => ConnectError | undefined,
  clientGone: AbortSignal,
): AsyncIterable<T> {
  let ended: "done" | "failed" | undefined;
  try {
    yield* messages;
    ended = "done";
  } catch (error) {
    ended = "failed";
    // A write to a client that has gone away fails; that is the client leaving (or the
    // server shutting down), not a server fault.
    throw finish(clientGone.aborted ? interruption(clientGone.reason) : error);
  } finally {
    if (ended === "done") finish();
    // The client went away: the stream was closed from outside, with no error on this side.
    else if (ended === undefined) finish(new ConnectError("the client went away", Code.Canceled));
  }
}
