import { type Duration, durationMs } from "@bufbuild/protobuf/wkt";
import { type Limits as CoreLimits, type LabelSelector, parseLabelSelector, type StartRequest } from "@jobworker/core";
import { isJobId, type Limits, type StartJobRequest } from "@jobworker/proto";
import { apiError } from "./errors.js";

/** Documented request limits (see docs/api.md). Beyond them a request is INVALID_ARGUMENT. */
export const REQUEST_LIMITS = {
  maxArgs: 4096,
  maxEnv: 1024,
  maxStringBytes: 128 * 1024,
  maxTotalBytes: 1024 * 1024,
} as const;

const invalid = (message: string) => apiError("JW_ERR_INVALID_ARGUMENT", message);

/** Checks a job id is a canonical lowercase UUID (existence is core's business). */
export function jobIdFromProto(id: string): string {
  if (!isJobId(id)) {
    throw apiError(
      "JW_ERR_MALFORMED_JOB_ID",
      `malformed job id ${JSON.stringify(id.slice(0, 64))}: expected a lowercase UUID`,
    );
  }
  return id;
}

/** A StartJobRequest as core's start request, after the edge checks. */
export function startRequestFromProto(request: StartJobRequest): StartRequest {
  if (!request.command) throw invalid("command must not be empty");
  if (request.args.length > REQUEST_LIMITS.maxArgs) throw invalid(`at most ${REQUEST_LIMITS.maxArgs} args are allowed`);
  const env = Object.entries(request.env);
  if (env.length > REQUEST_LIMITS.maxEnv) throw invalid(`at most ${REQUEST_LIMITS.maxEnv} env entries are allowed`);
  const strings = [request.command, request.workingDirectory, ...request.args, ...env.flat()];
  // Names and labels are checked against their own, far smaller bounds in core.
  let total = 0;
  for (const value of strings) {
    const bytes = Buffer.byteLength(value);
    if (bytes > REQUEST_LIMITS.maxStringBytes) {
      throw invalid(`each command, arg or env string may be at most ${REQUEST_LIMITS.maxStringBytes} bytes`);
    }
    total += bytes;
  }
  if (total > REQUEST_LIMITS.maxTotalBytes) {
    throw invalid(`command, args and env together may be at most ${REQUEST_LIMITS.maxTotalBytes} bytes`);
  }
  return {
    command: request.command,
    args: request.args,
    env: request.env,
    workingDirectory: request.workingDirectory || undefined,
    limits: request.limits ? limitsFromProto(request.limits) : undefined,
    maxRuntimeMs: request.maxRuntime ? durationToMs(request.maxRuntime, "max_runtime") : undefined,
    name: request.name || undefined,
    labels: request.labels,
    stdin: request.stdin || request.tty,
    tty: request.tty,
    terminalSize: request.terminalSize
      ? { rows: request.terminalSize.rows, columns: request.terminalSize.columns }
      : undefined,
  };
}

function limitsFromProto(limits: Limits): CoreLimits {
  const num = (name: string, value: bigint | number | undefined): number | undefined => {
    if (value === undefined) return undefined;
    if (BigInt(value) > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(`limit ${name} is absurdly large: ${value}`);
    return Number(value);
  };
  return {
    cpuMillicores: num("cpu_millicores", limits.cpuMillicores),
    memoryBytes: num("memory_bytes", limits.memoryBytes),
    ioReadBps: num("io_read_bps", limits.ioReadBps),
    ioWriteBps: num("io_write_bps", limits.ioWriteBps),
    ioReadIops: num("io_read_iops", limits.ioReadIops),
    ioWriteIops: num("io_write_iops", limits.ioWriteIops),
    maxPids: num("max_pids", limits.maxPids),
    diskBytes: num("disk_bytes", limits.diskBytes),
  };
}

/** A label selector as core's; an empty one selects everything (undefined). Longer than 4 KiB is refused. */
export function selectorFromProto(text: string): LabelSelector | undefined {
  if (text.length > 4096) throw invalid("label_selector may be at most 4096 characters");
  return text.trim() ? parseLabelSelector(text) : undefined;
}

/** A Duration as milliseconds; negative or out-of-range values are refused. */
export function durationToMs(duration: Duration, field: string): number {
  if (duration.seconds < 0n || duration.nanos < 0 || duration.nanos > 999_999_999) {
    throw invalid(`${field} must be a non-negative duration`);
  }
  if (duration.seconds > 315_576_000_000n) throw invalid(`${field} is out of range`);
  return durationMs(duration);
}
