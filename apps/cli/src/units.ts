import { CliError } from "./cli-error.js";

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  ki: 2 ** 10,
  kib: 2 ** 10,
  mi: 2 ** 20,
  mib: 2 ** 20,
  gi: 2 ** 30,
  gib: 2 ** 30,
  ti: 2 ** 40,
  tib: 2 ** 40,
};

/** "256MiB", "1G", "10MB", "4096" -> bytes (decimal units for K/M/G, binary for Ki/Mi/Gi). */
export function parseSize(text: string, flag: string): bigint {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = SIZE_UNITS[match?.[2]?.toLowerCase() ?? "?"];
  if (!match || unit === undefined) {
    throw new CliError(
      "JW_ERR_USAGE",
      `--${flag} ${JSON.stringify(text)} is not a size: use bytes or a unit, as in 512MiB, 1G or 10MB`,
    );
  }
  return BigInt(Math.round(Number(match[1]) * unit));
}

/** "0.5" (cores) or "500m" (millicores) -> millicores. */
export function parseCpu(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(text.trim());
  if (!match)
    throw new CliError(
      "JW_ERR_USAGE",
      `--cpu ${JSON.stringify(text)} is not a CPU amount: use cores (0.5, 2) or millicores (500m)`,
    );
  const value = Number(match[1]);
  const millicores = match[2] === "m" ? value : value * 1000;
  if (!Number.isInteger(millicores)) throw new CliError("JW_ERR_USAGE", `--cpu ${text} is finer than a millicore`);
  return millicores;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "10s", "1m30s", "500ms", "2h" -> milliseconds. A bare number is seconds. */
export function parseDuration(text: string, flag: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join("") !== trimmed) {
    throw new CliError(
      "JW_ERR_USAGE",
      `--${flag} ${JSON.stringify(text)} is not a duration: use a unit, as in 500ms, 10s, 1m30s or 2h`,
    );
  }
  return Math.round(
    parts.reduce((total, [, value, unit]) => total + Number(value) * (DURATION_UNITS[unit ?? "s"] ?? 1000), 0),
  );
}

/** Bytes for people: 1.5 GiB, 12 MiB, 512 B. */
export function formatBytes(bytes: bigint | number): string {
  let value = Number(bytes);
  for (const unit of ["B", "KiB", "MiB", "GiB", "TiB"]) {
    if (value < 1024 || unit === "TiB")
      return unit === "B" ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${unit}`;
    value /= 1024;
  }
  return `${value} B`;
}

/** A duration for people: 350ms, 4.2s, 3m12s, 2h5m. */
export function formatDurationMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes}m${Math.floor((ms % 60_000) / 1000)}s`;
  return `${Math.floor(minutes / 60)}h${minutes % 60}m`;
}

/**
 * A --since value as epoch milliseconds: a duration before now ("10m", "1h30m"
 * as parseDuration reads them) or an RFC 3339 time with its zone ("2026-11-29T10:00:00Z").
 */
export function parseSince(text: string, now = Date.now()): number {
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(text)) {
    const time = Date.parse(text);
    if (!Number.isNaN(time)) return time;
  }
  if (/^\d/.test(text) && !text.includes("T")) {
    try {
      return now - parseDuration(text, "since");
    } catch {
      // not a duration either: said below
    }
  }
  throw new CliError(
    "JW_ERR_USAGE",
    `--since ${JSON.stringify(text)} is neither a duration (10m, 2h) nor an RFC 3339 time with a zone (2026-11-29T10:00:00Z)`,
  );
}
