// Fleet: queued→running latency and jobs/s through a fleet of three servers on
// one Redis (BullMQ), against the same three servers used alone (StartJob on
// each directly). Its own servers: the fleet needs a redis-server and peers.
import { cp, mkdtemp, rm } from "node:fs/promises";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { writeDevPki } from "@jobworker/dev-pki";
import type { Job } from "@jobworker/proto";
import { type JobClient, RedisServer, ServerProcess } from "@jobworker/testkit";
import { type Summary, summarize } from "./lib/stats.ts";
import { ms, type Row, x } from "./lib/table.ts";

const HOSTS = ["alpha", "bravo", "charlie"];
const SEQUENTIAL = 100;
const CONCURRENT_CLIENTS = 8;
const CONCURRENT_JOBS = 300;

export async function fleet(): Promise<Row[]> {
  const redis = await RedisServer.start();
  const pki = await mkdtemp("/var/tmp/jobworker-bench-fleet-pki-");
  const servers: ServerProcess[] = [];
  try {
    await writeDevPki(pki);
    for (const host of HOSTS) {
      servers.push(
        await ServerProcess.start({
          writePki: (dir) => cp(pki, dir, { recursive: true }),
          args: [
            ...["--queue-url", redis.url, "--host-name", host],
            ...["--max-jobs", "2000", "--max-running-jobs-per-owner", "2000"],
            ...["--max-starts-per-second-per-owner", "100000"],
          ],
        }),
      );
    }
    const clients = await Promise.all(servers.map((server) => server.client("alice")));
    const submitter = clients[0]!;
    const direct = (i: number) => clients[i % clients.length]!;
    // Warm-up: JIT, TLS sessions and peer connections on every server.
    for (let i = 0; i < 20; i++) {
      await runDirect(direct(i));
      await runFleet(submitter);
    }
    // Interleaved, one at a time: accepted→running as each job's own record tells (one clock, this machine).
    const fleetLatency: number[] = [];
    const directLatency: number[] = [];
    for (let i = 0; i < SEQUENTIAL; i++) {
      fleetLatency.push(runningAfter(await runFleet(submitter)));
      directLatency.push(runningAfter(await runDirect(direct(i))));
    }
    const [fleetRun, directRun] = [summarize(fleetLatency), summarize(directLatency)] as [Summary, Summary];
    const directPerSecond = await perSecond((i) => runDirect(direct(i)));
    const fleetPerSecond = await perSecond(() => runFleet(submitter));
    const spreadPerSecond = await perSecond((i) => runFleet(direct(i)));
    const floor = (value: number) => `alone ${ms(value)}`;
    return [
      {
        benchmark: "fleet: queued→running /bin/true, p50",
        figure: ms(fleetRun.p50),
        floor: floor(directRun.p50),
        ratio: x(fleetRun.p50 / directRun.p50),
        target: "-",
        met: undefined,
      },
      {
        benchmark: "fleet: queued→running /bin/true, p99",
        figure: ms(fleetRun.p99),
        floor: floor(directRun.p99),
        ratio: x(fleetRun.p99 / directRun.p99),
        target: "-",
        met: undefined,
      },
      {
        benchmark: `fleet: throughput, ${CONCURRENT_CLIENTS} submitters through one server, 3 hosts`,
        figure: `${fleetPerSecond.toFixed(0)} jobs/s`,
        floor: `alone ${directPerSecond.toFixed(0)}/s`,
        ratio: x(fleetPerSecond / directPerSecond),
        target: "-",
        met: undefined,
      },
      {
        benchmark: `fleet: throughput, ${CONCURRENT_CLIENTS} submitters spread over the 3 servers`,
        figure: `${spreadPerSecond.toFixed(0)} jobs/s`,
        floor: `alone ${directPerSecond.toFixed(0)}/s`,
        ratio: x(spreadPerSecond / directPerSecond),
        target: "-",
        met: undefined,
      },
    ];
  } finally {
    for (const server of servers) await server.dispose();
    await redis.dispose();
    await rm(pki, { recursive: true, force: true });
  }
}

/** StartJob on one server, then WaitJob: the job as it ended. */
async function runDirect(client: JobClient): Promise<Job> {
  const { job } = await client.startJob({ command: "/bin/true" });
  return (await client.waitJob({ id: job!.id })).job!;
}

/** Submitted to the fleet through one server, then WaitJob there. */
async function runFleet(client: JobClient): Promise<Job> {
  const { job } = await client.startJob({ command: "/bin/true", queue: "default" });
  return (await client.waitJob({ id: job!.id })).job!;
}

/** Milliseconds from accepted (queued, for a fleet job) to its process running. */
function runningAfter(job: Job): number {
  return timestampMs(job.startTime!) - timestampMs(job.createTime!);
}

/** CONCURRENT_JOBS runs from CONCURRENT_CLIENTS loops: how many finished per second. */
async function perSecond(run: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENT_CLIENTS }, async () => {
      for (let i = next++; i < CONCURRENT_JOBS; i = next++) await run(i);
    }),
  );
  return CONCURRENT_JOBS / ((performance.now() - started) / 1000);
}
