import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { type Job, LimitsSchema } from "@jobworker/proto";
import { Args, Flags } from "@oclif/core";
import { JobCommand } from "../base-command.js";
import { CliError } from "../cli-error.js";
import { Reconnector, reconnectFlag } from "../connection/reconnect.js";
import { exitCodeOf } from "../format/exit-code.js";
import { jobToJson } from "../format/job-json.js";
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from "../interactive/detach-keys.js";
import { attachSession, runSession, sessionExitCode } from "../interactive/session.js";
import { jobOf } from "../job-of.js";
import { interruptSignal, streamToStdout } from "../stream-to-stdout.js";
import { parseCpu, parseDuration, parseSize } from "../units.js";

export default class Start extends JobCommand<typeof Start> {
  static override summary = "Start a job: an isolated, resource-limited process on the server.";
  static override description = `Everything after "--" is the command and its arguments, passed unchanged (no shell).
A bare command name is looked up in the job's PATH. Limits left out take the server's defaults.

Without --follow, prints the job id (only the id when stdout is not a terminal).
With --follow, behaves like 'docker run': "job <id>" goes to stderr, stdout carries
only the job's output, and the exit code is the job's (128+signal when a signal ended
it, 124 when it timed out). Ctrl-C detaches; the job keeps running. When the server restarts, it
reconnects (see --reconnect) and resumes after the last byte written.

With -i (and -t), it stays attached as --follow does and exits with the job's code;
stdin goes to the job, and its EOF closes the job's stdin. With -t the job gets a
terminal: Ctrl-C goes to the job, and the detach keys (Ctrl-P Ctrl-Q) leave it running.`;

  static override examples = [
    "<%= config.bin %> start -- /bin/echo hello",
    "id=$(<%= config.bin %> start --cpu 500m --memory 256MiB -- make -j4)",
    "<%= config.bin %> start --follow --max-runtime 10m --env CI=1 -- ./run-tests.sh",
    "<%= config.bin %> start --name build-42 --label team=infra --label ci=true -- make",
    "<%= config.bin %> start --io-write-bps 10MB --pids 64 -- dd if=/dev/zero of=out bs=1M count=100 oflag=direct",
    "<%= config.bin %> start -it -- /bin/bash",
    "printf 'b\\na\\n' | <%= config.bin %> start -i -- sort",
    "<%= config.bin %> start --queue default --attempts 2 --priority 10 -- ./nightly.sh",
  ];

  static override strict = false;
  static override args = {
    command: Args.string({ description: "command to run, then its arguments", required: true }),
  };

  static override flags = {
    follow: Flags.boolean({ char: "f", summary: "Stream the output and exit with the job's code, like docker run." }),
    "max-runtime": Flags.string({ summary: "Stop the job after this long (500ms, 10s, 5m, 2h)." }),
    env: Flags.string({
      char: "e",
      summary: "Environment variable K=V (repeatable). The server's env is never passed.",
      multiple: true,
    }),
    workdir: Flags.string({
      char: "w",
      summary: "Working directory inside the job (default: its private, writable /work).",
      description:
        "It must lie in the job's view (/work, /tmp, /run, /usr, /bin, /etc, /opt... or a path the server exposes) and be enterable by the job's user.",
    }),
    name: Flags.string({
      summary: "A name for the job, unique among your jobs; usable wherever an id is.",
      description: '1-63 letters, digits, "_", "." or "-", starting with a letter or digit.',
    }),
    label: Flags.string({
      char: "l",
      summary: "Label key=value (repeatable); list, events, clean, stop and delete select on them with -l.",
      multiple: true,
    }),
    cpu: Flags.string({ summary: "CPU limit: cores (0.5, 2) or millicores (500m).", helpGroup: "LIMITS" }),
    memory: Flags.string({ char: "m", summary: "Memory limit, no swap (256MiB, 1G).", helpGroup: "LIMITS" }),
    "io-read-bps": Flags.string({ summary: "Disk read bandwidth (10MB, 1GiB).", helpGroup: "LIMITS" }),
    "io-write-bps": Flags.string({ summary: "Disk write bandwidth (10MB, 1GiB).", helpGroup: "LIMITS" }),
    "io-read-iops": Flags.integer({ summary: "Disk read operations per second.", helpGroup: "LIMITS", min: 1 }),
    "io-write-iops": Flags.integer({ summary: "Disk write operations per second.", helpGroup: "LIMITS", min: 1 }),
    pids: Flags.integer({ summary: "Most processes and threads at once.", helpGroup: "LIMITS", min: 1 }),
    disk: Flags.string({
      summary: "Disk space for its writable dirs (memory-backed) and its output (1GiB).",
      helpGroup: "LIMITS",
    }),
    interactive: Flags.boolean({
      char: "i",
      summary: "Send this stdin to the job (its EOF closes the job's); shows the output and exits with the job's code.",
      helpGroup: "INTERACTIVE",
    }),
    tty: Flags.boolean({
      char: "t",
      summary: "Give the job a terminal of this window's size; this terminal goes raw (Ctrl-C goes to the job).",
      helpGroup: "INTERACTIVE",
    }),
    "detach-keys": Flags.string({
      summary: `Keys that leave a -t job running (default ${DEFAULT_DETACH_KEYS}); see 'runjob attach'.`,
      helpGroup: "INTERACTIVE",
    }),
    queue: Flags.string({
      char: "q",
      summary: "Submit to this fleet queue: whichever fleet server has room runs it (docs/fleet.md).",
      helpGroup: "FLEET",
    }),
    priority: Flags.integer({
      summary: "Among queued jobs, higher runs first (0-2097150).",
      helpGroup: "FLEET",
      min: 0,
    }),
    delay: Flags.string({ summary: "Stay queued at least this long (30s, 5m).", helpGroup: "FLEET" }),
    attempts: Flags.integer({
      summary: "Run it again on another server when its server is lost, up to this many times in all.",
      helpGroup: "FLEET",
      min: 1,
      max: 10,
    }),
    reconnect: reconnectFlag,
  };

  async run(): Promise<unknown> {
    const [command, ...args] = this.argvRest;
    if (!command) throw new CliError("JW_ERR_USAGE", "no command given: runjob start [flags] -- <command> [args...]");
    const flags = this.flags;
    // The request is built (and its flags checked) before connecting: a usage error needs no server.
    const detachKeys = parseDetachKeys(flags["detach-keys"] ?? DEFAULT_DETACH_KEYS);
    const interactive = flags.interactive || flags.tty;
    const fleet = fleetFields(flags, interactive);
    const request = {
      stdin: interactive,
      tty: flags.tty,
      terminalSize:
        flags.tty && process.stdout.isTTY ? { rows: process.stdout.rows, columns: process.stdout.columns } : undefined,
      command,
      args,
      env: parseEnv(flags.env ?? []),
      name: flags.name ?? "",
      labels: parseLabels(flags.label ?? []),
      workingDirectory: flags.workdir ?? "",
      limits: create(LimitsSchema, {
        cpuMillicores: flags.cpu === undefined ? undefined : parseCpu(flags.cpu),
        memoryBytes: flags.memory === undefined ? undefined : parseSize(flags.memory, "memory"),
        ioReadBps: flags["io-read-bps"] === undefined ? undefined : parseSize(flags["io-read-bps"], "io-read-bps"),
        ioWriteBps: flags["io-write-bps"] === undefined ? undefined : parseSize(flags["io-write-bps"], "io-write-bps"),
        ioReadIops: flags["io-read-iops"] === undefined ? undefined : BigInt(flags["io-read-iops"]),
        ioWriteIops: flags["io-write-iops"] === undefined ? undefined : BigInt(flags["io-write-iops"]),
        maxPids: flags.pids,
        diskBytes: flags.disk === undefined ? undefined : parseSize(flags.disk, "disk"),
      }),
      maxRuntime:
        flags["max-runtime"] === undefined
          ? undefined
          : durationFromMs(parseDuration(flags["max-runtime"], "max-runtime")),
      ...fleet,
    };
    const client = await this.client();
    const job = jobOf(await client.startJob(request));
    if (interactive) {
      if (!this.jsonEnabled()) process.stderr.write(flags.tty ? "" : `job ${job.id}\n`);
      const end = await runSession(attachSession(client, job.id, 0n), {
        id: job.id,
        stdin: true,
        tty: flags.tty,
        detachKeys,
      });
      this.exit(sessionExitCode(end, job.id, this.config.bin));
    }
    if (flags.follow) return this.follow(job);
    if (this.jsonEnabled()) return jobToJson(job);
    process.stdout.write(`${job.id}\n`);
    if (process.stdout.isTTY) process.stderr.write(`follow its output: ${this.config.bin} logs -f ${job.id}\n`);
    return undefined;
  }

  private async follow(job: Job): Promise<unknown> {
    // Ctrl-C detaches from here on: the handler is in place before the id is announced.
    const { signal, interrupted } = interruptSignal();
    const reconnector = Reconnector.fromFlag(this.flags.reconnect, signal);
    this.reconnector = reconnector;
    process.stderr.write(`job ${job.id}\n`);
    const client = await this.client();
    await streamToStdout(client, { id: job.id, follow: true }, signal, reconnector);
    if (interrupted()) {
      process.stderr.write(
        `detached; job ${job.id} keeps running.\n  follow: ${this.config.bin} logs -f ${job.id}\n  stop:   ${this.config.bin} stop ${job.id}\n`,
      );
      this.exit(130);
    }
    const ended = jobOf(await reconnector.retry(() => client.waitJob({ id: job.id })));
    if (this.jsonEnabled()) this.printJson(jobToJson(ended));
    this.exit(exitCodeOf(ended));
  }
}

/** The fleet fields of the request; --priority, --delay and --attempts need --queue. */
function fleetFields(
  flags: { queue?: string; priority?: number; delay?: string; attempts?: number },
  interactive: boolean,
) {
  if (!flags.queue) {
    if (flags.priority !== undefined || flags.delay !== undefined || flags.attempts !== undefined) {
      throw new CliError("JW_ERR_USAGE", "--priority, --delay and --attempts are for fleet jobs: add --queue NAME");
    }
    return {};
  }
  if (interactive) throw new CliError("JW_ERR_USAGE", "a fleet job (--queue) cannot be interactive: drop -i/-t");
  return {
    queue: flags.queue,
    priority: flags.priority ?? 0,
    delay: flags.delay === undefined ? undefined : durationFromMs(parseDuration(flags.delay, "delay")),
    attempts: flags.attempts ?? 0,
  };
}

function parseLabels(pairs: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf("=");
    if (equals <= 0) throw new CliError("JW_ERR_USAGE", `--label ${JSON.stringify(pair)} must be key=value`);
    labels[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return labels;
}

function parseEnv(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf("=");
    if (equals <= 0) throw new CliError("JW_ERR_USAGE", `--env ${JSON.stringify(pair)} must be NAME=VALUE`);
    env[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return env;
}
