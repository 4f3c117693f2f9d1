import { type DestinationStream, type Logger, pino } from "pino";
import { linesPerTurn } from "./lines-per-turn.js";

const LEVEL_NAMES: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};
/** Fields every line has, shown in the line's head rather than after it. */
const HEAD_FIELDS = new Set(["level", "time", "msg", "service", "pid", "hostname"]);

/** json or pretty; auto is pretty when `out` is a terminal (a person reads it), else json (journald, collectors). */
export function resolveLogFormat(format: string, out: { isTTY?: boolean } = process.stdout): "json" | "pretty" {
  if (format === "json" || format === "pretty") return format;
  return out.isTTY ? "pretty" : "json";
}

/**
 * The server's logger: times in ISO 8601 (UTC), one JSON object a line, or a
 * line for people (`time LEVEL message key=value …`) in the pretty format.
 */
export function createServerLogger(
  level: string,
  format: "json" | "pretty",
  out?: { write(text: string): unknown },
): Logger {
  const options = {
    level,
    base: { service: "jobworker-server" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (format === "pretty") return pino(options, prettyDestination(out ?? process.stdout));
  if (out) return pino(options, { write: (line: string) => out.write(line) });
  // JSON to stdout goes through pino's own destination, a turn's lines at a time.
  return pino(options, linesPerTurn(pino.destination({ dest: 1, sync: false })));
}

/** A pino destination that writes each JSON line as `time LEVEL message key=value …`. */
export function prettyDestination(out: { write(text: string): unknown }): DestinationStream {
  return {
    write(line: string) {
      out.write(`${prettyLine(line)}\n`);
    },
  };
}

/** One JSON log line as a person reads it. A line that is not JSON is passed as it is. */
export function prettyLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line);
  } catch {
    return line.trimEnd();
  }
  const level = LEVEL_NAMES[Number(entry.level)] ?? String(entry.level);
  const fields = Object.entries(entry)
    .filter(([key]) => !HEAD_FIELDS.has(key))
    .map(
      ([key, value]) => `${key}=${typeof value === "string" && !/[\s"=]/.test(value) ? value : JSON.stringify(value)}`,
    );
  return [String(entry.time ?? ""), level.padEnd(5), String(entry.msg ?? ""), ...fields].join(" ").trimEnd();
}
