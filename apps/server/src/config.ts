import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { ConfigErrorCode } from "./api/error-codes.js";

/** One setting: its flag, environment variable, default and what it does (this table is --help). */
export interface Setting {
  flag: string;
  env: string;
  /**
   * A list setting may repeat its flag; its env var and default are
   * comma-separated. A duration is a number with a unit (ms, s, m, h, d), read as milliseconds.
   * A boolean is a flag without a value; its env var and file value are true or false.
   */
  kind: "string" | "integer" | "list" | "duration" | "boolean";
  default: string;
  help: string;
  /** Smallest value allowed (integers only; default 0). */
  min?: number;
}

const SETTINGS = {
  listen: {
    flag: "listen",
    env: "JOBWORKER_LISTEN",
    kind: "string",
    default: "127.0.0.1:8443",
    help: "host:port of the API (HTTP/2 and HTTP/1.1, TLS 1.3, client certificate required)",
  },
  tlsCert: {
    flag: "tls-cert",
    env: "JOBWORKER_TLS_CERT",
    kind: "string",
    default: "certs/server.crt",
    help: "server certificate (PEM)",
  },
  tlsKey: {
    flag: "tls-key",
    env: "JOBWORKER_TLS_KEY",
    kind: "string",
    default: "certs/server.key",
    help: "server private key (PEM, keep it mode 0600)",
  },
  clientCa: {
    flag: "client-ca",
    env: "JOBWORKER_CLIENT_CA",
    kind: "string",
    default: "certs/ca.crt",
    help: "CA that client certificates must chain to (PEM)",
  },
  clientCrl: {
    flag: "client-crl",
    env: "JOBWORKER_CLIENT_CRL",
    kind: "string",
    default: "",
    help: "CRL of revoked client certificates (PEM, from 'jobworker-server pki revoke'; empty: none)",
  },
  stateDir: {
    flag: "state-dir",
    env: "JOBWORKER_STATE_DIR",
    kind: "string",
    default: "/var/lib/jobworker",
    help: "job records, output and work dirs (created 0700; not under /tmp)",
  },
  cgroupParent: {
    flag: "cgroup-parent",
    env: "JOBWORKER_CGROUP_PARENT",
    kind: "string",
    default: "jobworker",
    help: "parent cgroup of job cgroups, relative to each hierarchy root",
  },
  jobUidFirst: {
    flag: "job-uid-first",
    env: "JOBWORKER_JOB_UID_FIRST",
    kind: "integer",
    default: "200000",
    help: "first transient uid/gid handed to jobs",
  },
  jobUidCount: {
    flag: "job-uid-count",
    env: "JOBWORKER_JOB_UID_COUNT",
    kind: "integer",
    default: "65536",
    help: "how many transient uids jobs may use",
  },
  defaultCpu: {
    flag: "default-cpu-millicores",
    env: "JOBWORKER_DEFAULT_CPU_MILLICORES",
    kind: "integer",
    default: "1000",
    help: "CPU limit of a job that asks for none (1000 = one core)",
  },
  defaultMemory: {
    flag: "default-memory-bytes",
    env: "JOBWORKER_DEFAULT_MEMORY_BYTES",
    kind: "integer",
    default: String(512 * 2 ** 20),
    help: "memory limit of a job that asks for none",
  },
  defaultPids: {
    flag: "default-max-pids",
    env: "JOBWORKER_DEFAULT_MAX_PIDS",
    kind: "integer",
    default: "1024",
    help: "process limit of a job that asks for none",
  },
  jobsMemory: {
    flag: "jobs-memory-bytes",
    env: "JOBWORKER_JOBS_MEMORY_BYTES",
    kind: "integer",
    default: "0",
    help: "memory of all jobs together, on their parent cgroup (0: the host's less a tenth, at least 1 GiB)",
  },
  jobsMaxPids: {
    flag: "jobs-max-pids",
    env: "JOBWORKER_JOBS_MAX_PIDS",
    kind: "integer",
    default: "0",
    help: "processes of all jobs together, on their parent cgroup (0: three quarters of the kernel's limit)",
  },
  maxCpu: {
    flag: "max-cpu-millicores",
    env: "JOBWORKER_MAX_CPU_MILLICORES",
    kind: "integer",
    default: "0",
    help: "highest CPU limit a job may ask for (0: the host's cores)",
  },
  maxMemory: {
    flag: "max-memory-bytes",
    env: "JOBWORKER_MAX_MEMORY_BYTES",
    kind: "integer",
    default: "0",
    help: "highest memory limit a job may ask for (0: the memory of all jobs together)",
  },
  maxPids: {
    flag: "max-pids",
    env: "JOBWORKER_MAX_PIDS",
    kind: "integer",
    default: "32768",
    help: "highest process limit a job may ask for",
  },
  defaultDisk: {
    flag: "default-disk-bytes",
    env: "JOBWORKER_DEFAULT_DISK_BYTES",
    kind: "integer",
    default: String(2 ** 30),
    help: "disk limit of a job that asks for none: its writable space (memory-backed) and its output",
  },
  maxDisk: {
    flag: "max-disk-bytes",
    env: "JOBWORKER_MAX_DISK_BYTES",
    kind: "integer",
    default: String(16 * 2 ** 30),
    help: "highest disk limit a job may ask for",
  },
  expose: {
    flag: "expose",
    env: "JOBWORKER_EXPOSE",
    kind: "list",
    default: "",
    help: "PATH[:ro|rw], repeatable: a host path every job sees at the same path (read-only by default)",
  },
  maxIoBps: {
    flag: "max-io-bps",
    env: "JOBWORKER_MAX_IO_BPS",
    kind: "integer",
    default: String(10 * 2 ** 30),
    help: "highest IO bandwidth limit (read or write) a job may ask for",
  },
  maxIoIops: {
    flag: "max-io-iops",
    env: "JOBWORKER_MAX_IO_IOPS",
    kind: "integer",
    default: "1000000",
    help: "highest IOPS limit (read or write) a job may ask for",
  },
  outputCap: {
    flag: "output-cap-bytes",
    env: "JOBWORKER_OUTPUT_CAP_BYTES",
    kind: "integer",
    default: String(2 ** 30),
    help: "a job whose output passes this is stopped (output limit)",
  },
  maxJobs: {
    flag: "max-jobs",
    env: "JOBWORKER_MAX_JOBS",
    kind: "integer",
    default: "1000",
    help: "most jobs running at once; more is RESOURCE_EXHAUSTED",
  },
  maxRunningJobsPerOwner: {
    flag: "max-running-jobs-per-owner",
    env: "JOBWORKER_MAX_RUNNING_JOBS_PER_OWNER",
    kind: "integer",
    default: "100",
    help: "most jobs one user may have running at once; more is RESOURCE_EXHAUSTED",
  },
  maxRunningJobsPerAdmin: {
    flag: "max-running-jobs-per-admin",
    env: "JOBWORKER_MAX_RUNNING_JOBS_PER_ADMIN",
    kind: "integer",
    default: "1000",
    help: "most jobs one admin may have running at once",
  },
  maxStartsPerSecond: {
    flag: "max-starts-per-second-per-owner",
    env: "JOBWORKER_MAX_STARTS_PER_SECOND_PER_OWNER",
    kind: "integer",
    default: "50",
    help: "sustained starts per second one user or admin may make (bursts of twice as many)",
  },
  maxKeptJobsPerOwner: {
    flag: "max-kept-jobs-per-owner",
    env: "JOBWORKER_MAX_KEPT_JOBS_PER_OWNER",
    kind: "integer",
    default: "1000",
    help: "ended jobs kept per owner; the oldest past it are deleted with their output",
  },
  maxKeptJobsPerAdmin: {
    flag: "max-kept-jobs-per-admin",
    env: "JOBWORKER_MAX_KEPT_JOBS_PER_ADMIN",
    kind: "integer",
    default: "10000",
    help: "ended jobs kept per admin; the oldest past it are deleted with their output",
  },
  retention: {
    flag: "retention",
    env: "JOBWORKER_RETENTION",
    kind: "duration",
    default: "7d",
    help: "ended jobs older than this are deleted with their output (30s, 15m, 12h, 7d)",
  },
  maxOutputTotal: {
    flag: "max-output-bytes-total",
    env: "JOBWORKER_MAX_OUTPUT_BYTES_TOTAL",
    kind: "integer",
    default: "0",
    help: "output all ended jobs may keep in the state dir before starts are refused (0: half its filesystem)",
  },
  maxGrace: {
    flag: "max-grace",
    env: "JOBWORKER_MAX_GRACE",
    kind: "duration",
    default: "5m",
    help: "longest grace period a stop may ask for; longer is INVALID_ARGUMENT",
  },
  handshakeTimeout: {
    flag: "handshake-timeout-seconds",
    env: "JOBWORKER_HANDSHAKE_TIMEOUT_SECONDS",
    kind: "integer",
    min: 1,
    default: "5",
    help: "a connection that has not completed its TLS handshake by then is closed",
  },
  maxConnections: {
    flag: "max-connections",
    env: "JOBWORKER_MAX_CONNECTIONS",
    kind: "integer",
    min: 1,
    default: "1024",
    help: "most API connections open at once; at the cap a new one closes the oldest still in its TLS handshake, or is refused",
  },
  maxStreamsPerConnection: {
    flag: "max-streams-per-connection",
    env: "JOBWORKER_MAX_STREAMS_PER_CONNECTION",
    kind: "integer",
    min: 1,
    default: "100",
    help: "most calls in progress on one HTTP/2 connection (its SETTINGS_MAX_CONCURRENT_STREAMS)",
  },
  maxFollowersPerOwner: {
    flag: "max-followers-per-owner",
    env: "JOBWORKER_MAX_FOLLOWERS_PER_OWNER",
    kind: "integer",
    min: 1,
    default: "256",
    help: "most StreamOutput calls one caller may have open at once; more is RESOURCE_EXHAUSTED",
  },
  gracePeriodMs: {
    flag: "grace-period-ms",
    env: "JOBWORKER_GRACE_PERIOD_MS",
    kind: "integer",
    default: "10000",
    help: "time between SIGTERM and SIGKILL when a stop names none",
  },
  metricsListen: {
    flag: "metrics-listen",
    env: "JOBWORKER_METRICS_LISTEN",
    kind: "string",
    default: "127.0.0.1:9464",
    help: "host:port of plain-HTTP /healthz and /metrics (empty: off)",
  },
  logLevel: {
    flag: "log-level",
    env: "JOBWORKER_LOG_LEVEL",
    kind: "string",
    default: "info",
    help: "trace, debug, info, warn, error or silent",
  },
  logFormat: {
    flag: "log-format",
    env: "JOBWORKER_LOG_FORMAT",
    kind: "string",
    default: "auto",
    help: "json (one object a line, for journald and collectors), pretty (for people), or auto: pretty when stdout is a terminal",
  },
  auditArgs: {
    flag: "audit-args",
    env: "JOBWORKER_AUDIT_ARGS",
    kind: "boolean",
    default: "false",
    help: "write jobs' arguments into the audit log (they may hold secrets); without it, their count and SHA-256 digest",
  },
  queueUrl: {
    flag: "queue-url",
    env: "JOBWORKER_QUEUE_URL",
    kind: "string",
    default: "",
    help: "join a fleet: the Redis of its job queue, redis://[USER:PASSWORD@]HOST:PORT[/DB] or rediss:// for TLS (empty: no fleet; docs/fleet.md)",
  },
  queues: {
    flag: "queue",
    env: "JOBWORKER_QUEUE",
    kind: "list",
    default: "default",
    help: "fleet queues this server takes jobs from (repeat the flag for several)",
  },
  advertise: {
    flag: "advertise",
    env: "JOBWORKER_ADVERTISE",
    kind: "string",
    default: "",
    help: "host:port other fleet servers reach this one's API at; the name must be in this server's certificate (empty: localhost and the API's port)",
  },
  hostName: {
    flag: "host-name",
    env: "JOBWORKER_HOST_NAME",
    kind: "string",
    default: "",
    help: "this server's name in a fleet (the HOST column; empty: the machine's hostname)",
  },
  queueLockDuration: {
    flag: "queue-lock-duration",
    env: "JOBWORKER_QUEUE_LOCK_DURATION",
    kind: "duration",
    default: "30s",
    help: "a fleet job whose server has not renewed its lock for this long is stalled: its attempt is lost and it may run elsewhere",
  },
  queueStalledInterval: {
    flag: "queue-stalled-interval",
    env: "JOBWORKER_QUEUE_STALLED_INTERVAL",
    kind: "duration",
    default: "30s",
    help: "how often this server looks for stalled fleet jobs",
  },
} as const satisfies Record<string, Setting>;

type SettingName = keyof typeof SETTINGS;

/** Every setting, in --help order (for the packaged config template). */
export function settingList(): readonly Setting[] {
  return Object.values(SETTINGS);
}

/** The server's configuration, every value resolved. */
export type ServerConfig = {
  [K in SettingName]: (typeof SETTINGS)[K]["kind"] extends "integer" | "duration"
    ? number
    : (typeof SETTINGS)[K]["kind"] extends "list"
      ? string[]
      : (typeof SETTINGS)[K]["kind"] extends "boolean"
        ? boolean
        : string;
};

/**
 * Thrown for a bad flag, variable or config file value; main prints it, with
 * its code, and the usage hint. Most are a value that cannot be used, the
 * default code.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";

  constructor(
    message: string,
    readonly code: ConfigErrorCode = "JW_ERR_CONFIG_VALUE",
  ) {
    super(message);
  }
}

/** --help: every setting with its flag, environment variable and default. */
export function usage(): string {
  const lines = Object.values(SETTINGS).map(
    (s: Setting) =>
      `  --${s.flag.padEnd(24)} ${s.help}\n  ${"".padEnd(26)} env ${s.env}, default ${JSON.stringify(s.default)}`,
  );
  return [
    "Usage: jobworker-server [flags]",
    "",
    "Runs the jobworker API. Precedence: flags, then environment, then --config file (JSON,",
    "keys as the flag names), then defaults.",
    "",
    "SIGHUP (systemctl reload) reads --tls-cert, --tls-key, --client-ca and --client-crl again;",
    "so does a change to any of those files. Open connections keep theirs.",
    "",
    "Certificates: 'jobworker-server pki --help' (a CA to run on an administrator's machine).",
    "",
    "Flags:",
    "  --config <file>            JSON file of settings (env JOBWORKER_CONFIG)",
    "  --help                     show this help",
    ...lines,
  ].join("\n");
}

/** Resolves the configuration: flags, then environment, then config file, then defaults. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ServerConfig | "help" {
  const options = Object.fromEntries(
    Object.values(SETTINGS).map((s: Setting) => [
      s.flag,
      s.kind === "boolean" ? { type: "boolean" as const } : { type: "string" as const, multiple: s.kind === "list" },
    ]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...options, config: { type: "string" }, help: { type: "boolean" } },
      strict: true,
    });
  } catch (error) {
    throw new ConfigError((error as Error).message, "JW_ERR_CONFIG_FLAG");
  }
  if (parsed.values.help) return "help";
  const file = readConfigFile(stringValue(parsed.values.config) ?? env.JOBWORKER_CONFIG);
  const config: Record<string, string | number | boolean | string[]> = {};
  for (const [name, setting] of Object.entries(SETTINGS) as [SettingName, Setting][]) {
    if (setting.kind === "list") {
      config[name] =
        listValue(parsed.values[setting.flag]) ?? splitList(env[setting.env] ?? file[setting.flag] ?? setting.default);
      continue;
    }
    if (setting.kind === "boolean") {
      const flag = parsed.values[setting.flag];
      config[name] =
        flag === true || toBoolean(setting.flag, env[setting.env] ?? file[setting.flag] ?? setting.default);
      continue;
    }
    const raw = stringValue(parsed.values[setting.flag]) ?? env[setting.env] ?? file[setting.flag] ?? setting.default;
    if (Array.isArray(raw)) throw new ConfigError(`--${setting.flag} takes one value, not a list`);
    if (typeof raw === "boolean") throw new ConfigError(`--${setting.flag} takes a value, not ${raw}`);
    config[name] =
      setting.kind === "integer"
        ? toInteger(setting.flag, raw, setting.min ?? 0)
        : setting.kind === "duration"
          ? toDurationMs(setting.flag, raw)
          : String(raw);
  }
  if (!["auto", "json", "pretty"].includes(String(config.logFormat))) {
    throw new ConfigError(`--log-format must be json, pretty or auto, got ${JSON.stringify(config.logFormat)}`);
  }
  return config as ServerConfig;
}

/** A boolean from an env var or config file: true or false (a JSON boolean in the file). */
function toBoolean(flag: string, raw: string | number | boolean | string[]): boolean {
  if (raw === true || raw === "true") return true;
  if (raw === false || raw === "false") return false;
  throw new ConfigError(`--${flag} must be true or false, got ${JSON.stringify(raw)}`);
}

function stringValue(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function listValue(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.length > 0 ? value.map(String) : undefined;
}

/** A list from an env var or config file: comma-separated text, or (in the file) a JSON array. */
function splitList(value: string | number | boolean | string[]): string[] {
  if (Array.isArray(value)) return value.map(String);
  return String(value)
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

/** One --expose value, PATH[:ro|rw], as the exposed path it names. */
export function parseExpose(value: string): { path: string; writable: boolean } {
  const match = /^(.*?)(?::(ro|rw))?$/.exec(value);
  const path = match?.[1] ?? "";
  if (!path.startsWith("/")) {
    throw new ConfigError(`--expose ${JSON.stringify(value)}: expected an absolute PATH, optionally with :ro or :rw`);
  }
  return { path, writable: match?.[2] === "rw" };
}

function readConfigFile(path: string | undefined): Record<string, string | number | boolean | string[]> {
  if (!path) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not a JSON object");
    const known = new Set(Object.values(SETTINGS).map((s: Setting) => s.flag));
    for (const key of Object.keys(parsed)) {
      if (!known.has(key)) throw new Error(`unknown setting ${JSON.stringify(key)}`);
    }
    return parsed as Record<string, string | number | boolean | string[]>;
  } catch (error) {
    throw new ConfigError(`config file ${path}: ${(error as Error).message}`, "JW_ERR_CONFIG_FILE");
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "15m", "7d" (or a bare number of milliseconds) as milliseconds. */
function toDurationMs(flag: string, raw: string | number): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(String(raw));
  const value = match ? Number(match[1]) * (UNIT_MS[match[2] ?? "ms"] ?? 1) : Number.NaN;
  if (!Number.isSafeInteger(value)) {
    throw new ConfigError(`--${flag} must be a duration such as 30s, 15m, 12h or 7d, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Decimal digits only: Number() would also take "", " 12 ", "0x10" and "1e3". */
function toInteger(flag: string, raw: string | number, min: number): number {
  const value = typeof raw === "number" ? raw : /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    const what = min === 0 ? "a non-negative integer" : `an integer of at least ${min}`;
    throw new ConfigError(`--${flag} must be ${what}, got ${JSON.stringify(raw)}`);
  }
  return value;
}
