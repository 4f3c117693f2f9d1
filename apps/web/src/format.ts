import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import { EndReason, type Job, JobState } from "@jobworker/proto";

/** A job's state as the CLI prints it: running, ended, … */
export function stateName(state: JobState): string {
  return (JobState[state] ?? "unknown").toLowerCase();
}

/** How an ended job ended: "exit 0", "killed by signal 9", "stopped", … */
export function outcome(job: Job): string {
  if (job.state !== JobState.ENDED) return "";
  switch (job.endReason) {
    case EndReason.EXITED:
      return `exit ${job.exitCode ?? "?"}`;
    case EndReason.SIGNALED:
      return `signal ${job.signal ?? "?"}`;
    default:
      return (EndReason[job.endReason] ?? "").toLowerCase().replaceAll("_", " ");
  }
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** Bytes in binary units: 1.5 MiB. */
export function bytes(value: bigint | number | undefined): string {
  if (value === undefined) return "–";
  let n = Number(value);
  let unit = 0;
  while (n >= 1024 && unit < UNITS.length - 1) {
    n /= 1024;
    unit++;
  }
  return `${unit === 0 ? n : n.toFixed(1)} ${UNITS[unit]}`;
}

/** Parses "512M", "1.5GiB", "1024" into bytes; undefined for empty, an Error message for nonsense. */
export function parseBytes(text: string): bigint | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B?)$/i.exec(trimmed);
  if (!match) throw new Error(`"${text}" is not a size: write e.g. 512M or 2GiB`);
  const power = " KMGT".indexOf((match[2] ?? "").toUpperCase() || " ");
  return BigInt(Math.round(Number(match[1]) * 1024 ** power));
}

/** A timestamp as local time, or "–". */
export function time(value: Timestamp | undefined): string {
  return value ? timestampDate(value).toLocaleString() : "–";
}

/** Labels as k=v, comma-separated. */
export function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(", ");
}

/** The command line as one string, for reading (not for a shell). */
export function commandLine(job: Job): string {
  return [job.command, ...job.args].join(" ");
}

/** Parses "a=b, c=d" or one per line into a map; an entry without "=" is an error. */
export function parsePairs(text: string, what: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const entry of text.split(/[\n,]/)) {
    const trimmed = entry.trim();
    if (!trimmed) continue;
    const at = trimmed.indexOf("=");
    if (at <= 0) throw new Error(`${what} "${trimmed}" needs the form KEY=VALUE`);
    pairs[trimmed.slice(0, at)] = trimmed.slice(at + 1);
  }
  return pairs;
}

/** How long ago, briefly: 42s, 5m, 3h, 2d. */
export function age(value: Timestamp | undefined, now = Date.now()): string {
  if (!value) return "–";
  const seconds = Math.max(0, Math.round((now - timestampDate(value).getTime()) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}
