import { create } from "@bufbuild/protobuf";
import { type Duration, DurationSchema, durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type * as core from "@jobworker/core";
import {
  EndReason,
  type Job,
  JobSchema,
  JobState,
  type Limits,
  LimitsSchema,
  type ResourceUsage,
  ResourceUsageSchema,
} from "@jobworker/proto";

const STATES: Record<core.JobState, JobState> = {
  starting: JobState.STARTING,
  running: JobState.RUNNING,
  stopping: JobState.STOPPING,
  ended: JobState.ENDED,
};

const END_REASONS: Record<core.EndReason, EndReason> = {
  exited: EndReason.EXITED,
  signaled: EndReason.SIGNALED,
  stopped: EndReason.STOPPED,
  oom_killed: EndReason.OOM_KILLED,
  timed_out: EndReason.TIMED_OUT,
  output_limit: EndReason.OUTPUT_LIMIT,
  lost: EndReason.LOST,
};

/** Core's state name for a proto JobState (UNSPECIFIED: none). */
export function stateFromProto(state: JobState): core.JobState | undefined {
  return (Object.keys(STATES) as core.JobState[]).find((name) => STATES[name] === state);
}

/** The API's state for one of core's. */
export function stateFromCore(state: core.JobState): JobState {
  return STATES[state];
}

/** A running job's live usage as the API's ResourceUsage. */
export function liveUsageToProto(usage: core.LiveUsage): ResourceUsage {
  return create(ResourceUsageSchema, {
    cpuTime: durationFromMicros(usage.cpuTimeMicros),
    memoryPeakBytes: BigInt(usage.memoryPeakBytes),
    ioReadBytes: BigInt(usage.ioReadBytes),
    ioWriteBytes: BigInt(usage.ioWriteBytes),
    memoryCurrentBytes: BigInt(usage.memoryCurrentBytes),
    pidsCurrent: usage.pidsCurrent,
    // Two decimals are all a percentage of CPU time can honestly claim.
    cpuPercent: Math.round(usage.cpuPercent * 100) / 100,
    outputBytes: BigInt(usage.outputBytes),
    sampleTime: timestampFromMs(usage.sampledAt),
  });
}

/** A core job as the API's Job message; a running job's usage is `live` when given. */
export function jobToProto(job: core.Job, live?: core.LiveUsage): Job {
  return create(JobSchema, {
    id: job.id,
    owner: job.owner,
    name: job.name ?? "",
    labels: job.labels ? { ...job.labels } : {},
    command: job.command,
    args: job.args,
    workingDirectory: job.workingDirectory,
    limits: limitsToProto(job.limits),
    maxRuntime: job.maxRuntimeMs === undefined ? undefined : durationFromMs(job.maxRuntimeMs),
    state: STATES[job.state],
    endReason: job.endReason ? END_REASONS[job.endReason] : EndReason.UNSPECIFIED,
    exitCode: job.exitCode,
    signal: job.signal,
    oomKilled: job.oomKilled,
    createTime: timestampFromMs(job.createdAt),
    startTime: job.startedAt === undefined ? undefined : timestampFromMs(job.startedAt),
    endTime: job.endedAt === undefined ? undefined : timestampFromMs(job.endedAt),
    usage: live
      ? liveUsageToProto(live)
      : job.usage
        ? create(ResourceUsageSchema, {
            cpuTime: durationFromMicros(job.usage.cpuTimeMicros),
            memoryPeakBytes: BigInt(job.usage.memoryPeakBytes),
            ioReadBytes: BigInt(job.usage.ioReadBytes),
            ioWriteBytes: BigInt(job.usage.ioWriteBytes),
            outputBytes: BigInt(job.outputBytes),
          })
        : undefined,
    outputBytes: BigInt(job.outputBytes),
    endDetail: job.endDetail ?? "",
    stdin: job.stdin ?? false,
    tty: job.tty ?? false,
  });
}

export function limitsToProto(limits: core.Limits): Limits {
  const big = (value: number | undefined) => (value === undefined ? undefined : BigInt(value));
  return create(LimitsSchema, {
    cpuMillicores: limits.cpuMillicores,
    memoryBytes: big(limits.memoryBytes),
    ioReadBps: big(limits.ioReadBps),
    ioWriteBps: big(limits.ioWriteBps),
    ioReadIops: big(limits.ioReadIops),
    ioWriteIops: big(limits.ioWriteIops),
    maxPids: limits.maxPids,
    diskBytes: big(limits.diskBytes),
  });
}

/** Whole microseconds as a Duration, in integer arithmetic (milliseconds would lose them or round badly). */
function durationFromMicros(micros: number): Duration {
  const seconds = Math.floor(micros / 1e6);
  return create(DurationSchema, { seconds: BigInt(seconds), nanos: (micros - seconds * 1e6) * 1000 });
}
