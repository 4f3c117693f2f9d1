import { mkdir, readFile, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { WIDE_WINDOW_SETTINGS, WideWindowSessionManager } from "@jobworker/cli/transport";
import { JobService } from "@jobworker/proto";
import { ServerProcess } from "@jobworker/testkit";
import { pssOf } from "./proc.ts";

export type JobClient = Client<typeof JobService>;

/** A jobworker-server process as users run it, and clients that connect the way runjob does. */
export interface BenchServer {
  port: number;
  /** The server process's pid, for its CPU time and memory in /proc. */
  pid: number;
  /** The server's PSS in bytes right after start-up, before any benchmark. */
  startupPss: number;
  certs: string;
  /** A new client (as alice) with its own HTTP/2 connection and runjob's wide windows. */
  client(): JobClient;
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Where the benchmarked server keeps its state dir: under /var/lib, as a
 * deployed server does (/var/lib/jobworker), not in /var/tmp with every test
 * suite on the machine. On ext4 without a journal (this project's machine) a
 * new inode costs a scan past every recently deleted one in its block group:
 * in /var/tmp, churned by other test runs, creating a job's files cost the
 * server 0.8 ms each against 0.02 ms here, and swung with whatever else ran.
 */
const STATE_PARENT = "/var/lib/jobworker-bench";

export async function startServer(): Promise<BenchServer> {
  await mkdir(STATE_PARENT, { recursive: true, mode: 0o700 });
  const server = await ServerProcess.start({
    tmpDir: STATE_PARENT,
    // The benchmarks start jobs as one identity, as fast as they can: lift its quotas.
    args: ["--max-jobs", "2000", "--max-running-jobs-per-owner", "2000", "--max-starts-per-second-per-owner", "100000"],
    env: { NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS ?? "" },
  });
  const [ca, cert, key] = await Promise.all(
    ["ca.crt", "alice.crt", "alice.key"].map((f) => readFile(join(server.certs, f))),
  );
  const baseUrl = `https://localhost:${server.port}`;
  const nodeOptions = { ca, cert, key, settings: WIDE_WINDOW_SETTINGS };
  return {
    port: server.port,
    pid: server.child.pid ?? 0,
    startupPss: await pssOf(server.child.pid ?? 0),
    certs: server.certs,
    client: () =>
      createClient(
        JobService,
        createGrpcTransport({
          baseUrl,
          nodeOptions,
          sessionManager: new WideWindowSessionManager(baseUrl, {}, nodeOptions),
        }),
      ),
    metrics: () => server.metrics(),
    stop: async () => {
      await server.dispose();
      await rmdir(STATE_PARENT).catch(() => {}); // another run may still use it
    },
  };
}
