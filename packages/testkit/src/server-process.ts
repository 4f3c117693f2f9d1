import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport, type Http2SessionManager } from "@connectrpc/connect-node";
import { writeDevPki } from "@jobworker/dev-pki";
import { JobService } from "@jobworker/proto";
import { testCgroupParent, testServerArgs, testStateDir } from "./server-args.js";
import { testUidRange } from "./uid-range.js";

export type JobClient = Client<typeof JobService>;

const SERVER_BIN = new URL("../../../apps/server/bin/jobworker-server.js", import.meta.url).pathname;

export interface ServerProcessOptions {
  /** Extra jobworker-server flags, or a function of the certs dir that gives them. */
  args?: string[] | ((certs: string) => string[]);
  /** Environment additions for the server process (NODE_OPTIONS for profiling, say). */
  env?: NodeJS.ProcessEnv;
  /** Where to keep state dirs, certs and data; default /var/tmp. */
  tmpDir?: string;
  /** Writes the PKI into the certs dir (ca.crt, server.crt, server.key, clients); default the dev PKI. */
  writePki?: (dir: string) => Promise<unknown>;
  /**
   * Runs this executable (a packaged jobworker-server, say) instead of the
   * repository's server on the test's Node, in `cwd`, with exactly `env`.
   */
  executable?: { path: string; env: NodeJS.ProcessEnv; cwd: string };
  /** Sees every line of the server's JSON log, parsed. */
  onLog?: (entry: Record<string, unknown>) => void;
}

/**
 * A real jobworker-server process with a fresh dev PKI and state dir, on
 * ephemeral ports. It can be killed (SIGKILL or SIGTERM) and started again on
 * the same state dir; `dispose` removes everything it made.
 */
export class ServerProcess {
  child!: ChildProcess;
  port = 0;
  metricsPort = 0;

  private constructor(
    readonly certs: string,
    readonly stateDir: string,
    readonly cgroupParent: string,
    private readonly options: ServerProcessOptions,
    /** The same across restarts, as an operator's configuration would be. */
    private readonly uidRange = testUidRange(),
  ) {}

  static async start(options: ServerProcessOptions = {}): Promise<ServerProcess> {
    const tmp = options.tmpDir ?? "/var/tmp";
    const certs = await mkdtemp(join(tmp, "jobworker-test-certs-"));
    await (options.writePki ?? writeDevPki)(certs);
    const server = new ServerProcess(certs, await testStateDir(tmp), testCgroupParent(), options);
    await server.restart();
    return server;
  }

  /**
   * Starts the server process (again) on the same state dir, and waits until it
   * is ready. A restart listens on the same ports, as a restarted service would.
   */
  async restart(): Promise<void> {
    const { executable } = this.options;
    this.child = spawn(
      executable?.path ?? process.execPath,
      [
        // An unhandled rejection ends the server even if something listens for them: no test passes over one.
        ...(executable ? [] : ["--unhandled-rejections=strict", SERVER_BIN]),
        ...testServerArgs({
          certs: this.certs,
          stateDir: this.stateDir,
          cgroupParent: this.cgroupParent,
          uidRange: this.uidRange,
          port: this.port,
          metricsPort: this.metricsPort,
        }),
        ...(typeof this.options.args === "function" ? this.options.args(this.certs) : (this.options.args ?? [])),
      ],
      {
        stdio: ["ignore", "pipe", "inherit"],
        env: executable?.env ?? { ...process.env, ...this.options.env },
        cwd: executable?.cwd,
      },
    );
    const lines = createInterface({ input: this.child.stdout! });
    const ready = new Promise<void>((resolve, reject) => {
      lines.on("line", (line) => {
        const entry = JSON.parse(line) as {
          level?: number;
          msg?: string;
          listen?: { port: number };
          metrics?: { port: number };
        };
        this.options.onLog?.(entry);
        if (entry.msg === "jobworker-server ready") {
          this.port = entry.listen?.port ?? 0;
          this.metricsPort = entry.metrics?.port ?? 0;
          resolve();
        }
        // The server's errors show in the test's output; the rest of its log is drained.
        if ((entry.level ?? 0) >= 50) process.stderr.write(`jobworker-server: ${line}\n`);
      });
      lines.once("close", () => reject(new Error("jobworker-server exited before it was ready")));
    });
    await ready;
  }

  /** Sends `signal` and resolves with the exit code (null when a signal ended it). */
  async kill(signal: NodeJS.Signals): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = once(this.child, "exit");
    this.child.kill(signal);
    const [code] = await exited;
    return code as number | null;
  }

  /** A client authenticating as `identity` from the dev PKI (alice, bob or admin). */
  async client(
    identity = "alice",
    sessionManager?: (baseUrl: string, nodeOptions: object) => Http2SessionManager,
  ): Promise<JobClient> {
    const [ca, cert, key] = await Promise.all(
      ["ca.crt", `${identity}.crt`, `${identity}.key`].map((file) => readFile(join(this.certs, file))),
    );
    const baseUrl = `https://localhost:${this.port}`;
    const nodeOptions = { ca, cert, key };
    return createClient(
      JobService,
      createGrpcTransport({ baseUrl, nodeOptions, sessionManager: sessionManager?.(baseUrl, nodeOptions) }),
    );
  }

  /** The Prometheus text of the server's /metrics. */
  async metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`)).text();
  }

  /** Cleans every job as admin, stops the server, removes its certs, state dir and cgroup parent. */
  async dispose(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      // The server goes even when cleaning up fails (the test's own failure is reported already).
      try {
        await (await this.client("admin")).cleanJobs({ allOwners: true });
      } finally {
        await this.kill("SIGTERM");
      }
    }
    await rm(this.certs, { recursive: true, force: true });
    await rm(this.stateDir, { recursive: true, force: true });
    // A server keeps its cgroup parent (the next one re-adopts jobs there); whoever started it owns it.
    for (const hierarchy of ["", ...(await readdir("/sys/fs/cgroup"))]) {
      await rmdir(join("/sys/fs/cgroup", hierarchy, this.cgroupParent)).catch(() => {});
    }
  }
}

/** A metric's value from Prometheus text, NaN when absent. */
export function metricValue(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\S+)`, "m").exec(text)?.[1] ?? Number.NaN);
}
