import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { WIDE_WINDOW_SETTINGS, WideWindowSessionManager } from "@jobworker/cli/transport";
import { writeDevPki } from "@jobworker/dev-pki";
import { JobService } from "@jobworker/proto";

export type JobClient = Client<typeof JobService>;

const ROOT = new URL("../../", import.meta.url).pathname;

/** A jobworker-server process as users run it: its own state dir, dev certificates, ephemeral ports. */
export interface BenchServer {
  child: ChildProcess;
  port: number;
  metricsPort: number;
  certs: string;
  /** A new client with its own HTTP/2 connection. */
  client(): JobClient;
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

export async function startServer(extraArgs: string[] = []): Promise<BenchServer> {
  const certs = await mkdtemp("/var/tmp/jobworker-bench-certs-");
  await writeDevPki(certs);
  const stateDir = await mkdtemp("/var/tmp/jobworker-bench-state-");
  const child = spawn(
    join(ROOT, "node_modules/.bin/jobworker-server"),
    [
      "--listen",
      "127.0.0.1:0",
      "--metrics-listen",
      "127.0.0.1:0",
      "--log-level",
      "info",
      "--tls-cert",
      join(certs, "server.crt"),
      "--tls-key",
      join(certs, "server.key"),
      "--client-ca",
      join(certs, "ca.crt"),
      "--state-dir",
      stateDir,
      "--cgroup-parent",
      "jobworker-bench",
      "--max-jobs",
      "2000",
      ...extraArgs,
    ],
    {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS ?? "" },
    },
  );
  const lines = createInterface({ input: child.stdout! });
  let port = 0;
  let metricsPort = 0;
  for await (const line of lines) {
    const entry = JSON.parse(line) as { msg?: string; listen?: { port: number }; metrics?: { port: number } };
    if (entry.msg === "jobworker-server ready") {
      port = entry.listen?.port ?? 0;
      metricsPort = entry.metrics?.port ?? 0;
      break;
    }
  }
  child.stdout?.resume();
  const [ca, cert, key] = await Promise.all(["ca.crt", "alice.crt", "alice.key"].map((f) => readFile(join(certs, f))));
  const baseUrl = `https://localhost:${port}`;
  // The same transport set-up as runjob's: wide HTTP/2 windows.
  const nodeOptions = { ca, cert, key, settings: WIDE_WINDOW_SETTINGS };
  const client = () =>
    createClient(
      JobService,
      createGrpcTransport({
        baseUrl,
        nodeOptions,
        sessionManager: new WideWindowSessionManager(baseUrl, {}, nodeOptions),
      }),
    );
  return {
    child,
    port,
    metricsPort,
    certs,
    client,
    metrics: async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
    async stop() {
      await client().cleanJobs({});
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
      await rm(certs, { recursive: true, force: true });
      await rm(stateDir, { recursive: true, force: true });
      for (const hierarchy of ["", ...(await readdir("/sys/fs/cgroup"))]) {
        await rmdir(join("/sys/fs/cgroup", hierarchy, "jobworker-bench")).catch(() => {});
      }
    },
  };
}
