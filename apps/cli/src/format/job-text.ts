import { durationMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { EndReason, type Job, JobState } from "@jobworker/proto";
import { formatBytes, formatDurationMs } from "../units.js";
import { hasControl, terminalSafe } from "./terminal-safe.js";

/** The proto enum name without its prefix, lowercased: JOB_STATE_RUNNING -> running. */
export function stateName(job: Job): string {
  return JobState[job.state].toLowerCase();
}

/** Every state a job can be in, by the names stateName gives them, from the API's enum. */
export const STATE_NAMES: readonly string[] = Object.values(JobState)
  .filter((value): value is JobState => typeof value === "number" && value !== JobState.UNSPECIFIED)
  .map((state) => JobState[state].toLowerCase());

/** The API's state for one of STATE_NAMES. */
export function stateFromName(name: string): JobState {
  const state = Object.values(JobState).find(
    (value): value is JobState => typeof value === "number" && JobState[value].toLowerCase() === name,
  );
  return state ?? JobState.UNSPECIFIED;
}

/** How the job ended, in a few words: "exit 3", "signal 9 (SIGKILL)", "oom-killed". */
export function outcome(job: Job): string {
  if (job.state !== JobState.ENDED) return "";
  const status =
    job.signal !== undefined
      ? `signal ${job.signal}${signalName(job.signal)}`
      : job.exitCode !== undefined
        ? `exit ${job.exitCode}`
        : "";
  const reason = {
    [EndReason.EXITED]: "",
    [EndReason.SIGNALED]: "",
    [EndReason.STOPPED]: "stopped",
    [EndReason.OOM_KILLED]: "oom-killed",
    [EndReason.TIMED_OUT]: "timed out",
    [EndReason.OUTPUT_LIMIT]: "output limit",
    [EndReason.LOST]: "lost",
    [EndReason.UNSPECIFIED]: "",
  }[job.endReason];
  return [reason, status].filter(Boolean).join(", ");
}

const SIGNALS: Record<number, string> = {
  1: "SIGHUP",
  2: "SIGINT",
  3: "SIGQUIT",
  6: "SIGABRT",
  9: "SIGKILL",
  11: "SIGSEGV",
  13: "SIGPIPE",
  15: "SIGTERM",
};

function signalName(signal: number): string {
  const name = SIGNALS[signal];
  return name ? ` (${name})` : "";
}

/** Age of a job for people: "3m12s". */
export function age(job: Job, now = Date.now()): string {
  return job.createTime ? formatDurationMs(now - timestampMs(job.createTime)) : "";
}

/**
 * The job's command line, shell-quoted where needed. Control characters are
 * shown as escapes inside $'...' quoting: printed raw, they would act on the
 * reader's terminal.
 */
export function commandLine(job: Job): string {
  return [job.command, ...job.args]
    .map((part) => {
      if (/^[\w@%+=:,./-]+$/.test(part)) return part;
      if (hasControl(part)) return `$'${terminalSafe(part.replaceAll("\\", "\\\\").replaceAll("'", "\\'"))}'`;
      return `'${part.replaceAll("'", "'\\''")}'`;
    })
    .join(" ");
}

/** A fleet job's queue, where its attempt runs (or ran), and its earlier attempts. */
function fleetLines(job: Job): [string, string][] {
  const lines: [string, string][] = [
    ["Queue", terminalSafe(job.queue)],
    ["Host", terminalSafe(job.host) || "-"],
    ["Attempt", job.attempt ? `${job.attempt} of ${job.maxAttempts} (local job ${job.attemptJobId})` : "-"],
  ];
  for (const earlier of job.previousAttempts) {
    const how = earlier.endReason === EndReason.LOST ? "lost" : "ended";
    lines.push([`Attempt ${earlier.attempt}`, terminalSafe(`${how} on ${earlier.host}: ${earlier.endDetail}`)]);
  }
  return lines;
}

/** Characters of an id shown in tables, as docker's short ids. */
export const SHORT_ID_LENGTH = 12;

/** The job's labels as key=value pairs joined by commas, in key order. */
export function labelText(job: Job): string {
  return Object.keys(job.labels)
    .sort()
    .map((key) => `${key}=${job.labels[key]}`)
    .join(",");
}

/** The header and cells of one row of `list`'s table; `wide` shows full ids and labels, `host` a fleet job's server. */
export function jobRow(job: Job, wide = false, host = false): string[] {
  return [
    wide ? job.id : job.id.slice(0, SHORT_ID_LENGTH),
    terminalSafe(job.name) || "-",
    terminalSafe(job.owner),
    stateName(job),
    ...(host ? [terminalSafe(job.host) || "-"] : []),
    outcome(job),
    age(job),
    ...(wide ? [terminalSafe(labelText(job)) || "-"] : []),
    commandLine(job),
  ];
}

/** The header of `list`'s table. */
export function jobHeader(wide = false, host = false): string[] {
  return [
    "ID",
    "NAME",
    "OWNER",
    "STATE",
    ...(host ? ["HOST"] : []),
    "RESULT",
    "AGE",
    ...(wide ? ["LABELS"] : []),
    "COMMAND",
  ];
}

/**
 * `list`'s aligned table, each line cut to `width` columns; `wide` shows full
 * ids and labels. Fleet jobs (a queue's listing) get a HOST column: the server
 * that runs or ran them.
 */
export function jobTable(
  jobs: readonly Job[],
  width: number,
  wide = false,
  host = jobs.some((job) => job.queue !== ""),
): string {
  return alignedTable([jobHeader(wide, host), ...jobs.map((job) => jobRow(job, wide, host))], width);
}

/** Rows as aligned columns (the last one left ragged), each line cut to `width` columns. */
export function alignedTable(rows: readonly string[][], width: number): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  return rows
    .map((row) =>
      row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join("  "),
    )
    .map((line) => (line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line))
    .join("\n");
}

/** `status`'s readable block. */
export function jobStatus(job: Job): string {
  const limits = job.limits;
  const time = (t: Job["createTime"]) => (t ? new Date(timestampMs(t)).toISOString() : "-");
  const lines: [string, string][] = [
    ["ID", job.id],
    ...(job.name ? ([["Name", terminalSafe(job.name)]] as [string, string][]) : []),
    ["Owner", terminalSafe(job.owner)],
    ...(Object.keys(job.labels).length > 0 ? ([["Labels", terminalSafe(labelText(job))]] as [string, string][]) : []),
    ["Command", commandLine(job)],
    ["State", stateName(job)],
  ];
  if (job.queue) lines.push(...fleetLines(job));
  if (job.state === JobState.ENDED) lines.push(["Result", outcome(job) || "-"]);
  if (job.oomKilled) lines.push(["OOM killed", "yes"]);
  if (job.endDetail) lines.push(["Detail", terminalSafe(job.endDetail)]);
  lines.push(
    ["Created", time(job.createTime)],
    ["Started", time(job.startTime)],
    ["Ended", time(job.endTime)],
    ["Output", formatBytes(job.outputBytes)],
    ["CPU limit", limits?.cpuMillicores !== undefined ? `${limits.cpuMillicores}m` : "none"],
    ["Memory limit", limits?.memoryBytes !== undefined ? formatBytes(limits.memoryBytes) : "none"],
    ["Pids limit", limits?.maxPids !== undefined ? String(limits.maxPids) : "none"],
    ["Disk limit", limits?.diskBytes !== undefined ? formatBytes(limits.diskBytes) : "none"],
  );
  const io: string[] = [];
  if (limits?.ioReadBps !== undefined) io.push(`read ${formatBytes(limits.ioReadBps)}/s`);
  if (limits?.ioWriteBps !== undefined) io.push(`write ${formatBytes(limits.ioWriteBps)}/s`);
  if (limits?.ioReadIops !== undefined) io.push(`read ${limits.ioReadIops} IOPS`);
  if (limits?.ioWriteIops !== undefined) io.push(`write ${limits.ioWriteIops} IOPS`);
  if (io.length > 0) lines.push(["IO limit", io.join(", ")]);
  if (job.usage) {
    const cpuMs = job.usage.cpuTime ? durationMs(job.usage.cpuTime) : 0;
    const live = job.usage.sampleTime !== undefined;
    lines.push(["CPU time", formatDurationMs(cpuMs)]);
    if (live) lines.push(["CPU now", `${job.usage.cpuPercent.toFixed(1)} %`]);
    if (live) lines.push(["Memory now", formatBytes(job.usage.memoryCurrentBytes)]);
    lines.push(["Memory peak", formatBytes(job.usage.memoryPeakBytes)]);
    if (live) lines.push(["Pids now", String(job.usage.pidsCurrent)]);
    lines.push(["IO", `read ${formatBytes(job.usage.ioReadBytes)}, written ${formatBytes(job.usage.ioWriteBytes)}`]);
  }
  return lines.map(([label, value]) => `${`${label}:`.padEnd(14)}${value}`).join("\n");
}
