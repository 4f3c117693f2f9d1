// 1. Start latency: StartJob -> WaitJob returns for /bin/true, fully isolated with
// default limits, from a persistent client; sequential, then 8 concurrent clients.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { cpus } from "node:os";
import { cpuTimes, processCpuMs } from "./lib/machine.ts";
import type { BenchServer } from "./lib/server.ts";
import { type Summary, summarize, timeEach, timeInterleaved } from "./lib/stats.ts";
import { ms, type Row, x } from "./lib/table.ts";

const SEQUENTIAL = 300;
const CONCURRENT_CLIENTS = 8;
const CONCURRENT_JOBS = 800;
/**
 * The server's own CPU per job in the 8-client run before the start path was
 * trimmed (commit 923400e, this project's 2-CPU machine, state dir under
 * /var/lib, median of three runs): the figure the target halves. See bench/README.md.
 */
const SERVER_CPU_PER_JOB_BEFORE_MS = 5.0;
/** Unmeasured runs of CONCURRENT_JOBS before the measured ones: the JIT's warm-up. */
const WARM_UP_ROUNDS = 3;
/** start→wait p50 target, as a multiple of the unshare floor. */
const UNSHARE_RATIO_TARGET = 2.0;
const UNSHARE = ["--pid", "--fork", "--mount-proc", "--net", "--mount", "--ipc", "--uts", "--", "/bin/true"];

async function spawnAndWait(command: string, args: string[]): Promise<void> {
  const child = spawn(command, args, { stdio: "ignore" });
  await once(child, "exit");
}

export async function startLatency(server: BenchServer): Promise<Row[]> {
  const client = server.client();
  // The jobs earlier benchmarks left are deleted first: the figure before was measured on a server
  // that had none, and with a thousand kept, every job's end here would delete the oldest one's
  // folder too. That case has its own row below.
  await client.cleanJobs({ endedOnly: true });
  let lastId = "";
  const runJob = async (c = client) => {
    const { job } = await c.startJob({ command: "/bin/true" });
    lastId = job?.id ?? "";
    await c.waitJob({ id: lastId });
  };
  await timeEach(20, () => runJob()); // warm-up: JIT, TLS session, page cache
  // And thrice as many concurrent starts as the run measured below: the server's CPU per job is
  // measured once the JIT has compiled its start path, as in a server that has run for a while, not
  // while it still compiles (bench/README.md: what that takes, and what it changes for the figure
  // before). Their jobs are deleted again, as the earlier benchmarks' were.
  const clients = Array.from({ length: CONCURRENT_CLIENTS }, () => server.client());
  for (let round = 0; round < WARM_UP_ROUNDS; round++) {
    await perSecond(clients, (c) => runJob(c));
    await client.cleanJobs({ endedOnly: true });
  }
  // Interleaved, so a noisy moment on the machine weighs on the figure and its floors alike.
  const [ours, bare, unshare, rpc] = (
    await timeInterleaved(SEQUENTIAL, [
      () => runJob(),
      () => spawnAndWait("/bin/true", []),
      () => spawnAndWait("unshare", UNSHARE),
      () => client.getJob({ id: lastId }), // next to no work on the server: the RPC alone
    ])
  ).map(summarize) as [Summary, Summary, Summary, Summary];

  const cpuBefore = await cpuTimes();
  const serverCpuBefore = await processCpuMs(server.pid);
  const jobsPerSecond = await perSecond(clients, (c) => runJob(c));
  const serverCpuAfter = await processCpuMs(server.pid);
  const cpuAfter = await cpuTimes();
  const cpuPerJob = (cpuAfter.total - cpuAfter.idle - (cpuBefore.total - cpuBefore.idle)) / CONCURRENT_JOBS;
  const serverUserPerJob = (serverCpuAfter.user - serverCpuBefore.user) / CONCURRENT_JOBS;
  const serverSystemPerJob = (serverCpuAfter.system - serverCpuBefore.system) / CONCURRENT_JOBS;
  const serverCpuPerJob = serverUserPerJob + serverSystemPerJob;
  const unsharePerSecond = await perSecond(clients, () => spawnAndWait("unshare", UNSHARE));
  // The same clients making an RPC with next to no work: what the server spends per call before any job work.
  const rpcCpuBefore = await processCpuMs(server.pid);
  await perSecond(clients, async (c) => {
    await c.getJob({ id: lastId });
  });
  const rpcCpuAfter = await processCpuMs(server.pid);
  const serverCpuPerRpc =
    (rpcCpuAfter.user + rpcCpuAfter.system - rpcCpuBefore.user - rpcCpuBefore.system) / CONCURRENT_JOBS;
  // The owner now has more ended jobs than it may keep (1000 by default): each job's end deletes the oldest.
  const atCapBefore = await processCpuMs(server.pid);
  await perSecond(clients, (c) => runJob(c));
  const atCapAfter = await processCpuMs(server.pid);
  const atCapPerJob = (atCapAfter.user + atCapAfter.system - atCapBefore.user - atCapBefore.system) / CONCURRENT_JOBS;

  return [
    {
      benchmark: "start→wait /bin/true, p50",
      figure: ms(ours.p50),
      floor: `bare ${ms(bare.p50)}`,
      ratio: x(ours.p50 / bare.p50),
      target: "p50 ≤ 10 ms",
      met: ours.p50 <= 10,
    },
    {
      benchmark: "start→wait /bin/true, p50",
      figure: ms(ours.p50),
      floor: `unshare ${ms(unshare.p50)}`,
      ratio: x(ours.p50 / unshare.p50),
      target: `≤ ${x(UNSHARE_RATIO_TARGET)}`,
      met: ours.p50 / unshare.p50 <= UNSHARE_RATIO_TARGET,
    },
    {
      benchmark: "start→wait /bin/true, p99",
      figure: ms(ours.p99),
      floor: `unshare ${ms(unshare.p99)}`,
      ratio: x(ours.p99 / unshare.p99),
      target: "-",
      met: undefined,
    },
    {
      benchmark: "start→wait /bin/true, p50, against unshare plus its two RPCs",
      figure: ms(ours.p50),
      floor: `unshare + 2 × GetJob ${ms(unshare.p50 + 2 * rpc.p50)}`,
      ratio: x(ours.p50 / (unshare.p50 + 2 * rpc.p50)),
      target: "-",
      met: undefined,
    },
    {
      benchmark: "one RPC (GetJob) round trip, p50",
      figure: ms(rpc.p50),
      floor: "-",
      ratio: "-",
      target: "-",
      met: undefined,
    },
    {
      benchmark: `throughput, ${CONCURRENT_CLIENTS} clients`,
      figure: `${jobsPerSecond.toFixed(0)} jobs/s`,
      floor: `unshare ${unsharePerSecond.toFixed(0)}/s`,
      ratio: x(jobsPerSecond / unsharePerSecond),
      target: "≥ 150 jobs/s",
      met: jobsPerSecond >= 150,
    },
    {
      benchmark: `busy CPU per job, ${CONCURRENT_CLIENTS} clients (whole machine: clients, server, launchers, kernel)`,
      figure: ms(cpuPerJob),
      floor: `${cpus().length} CPUs → at most ${((cpus().length * 1000) / cpuPerJob).toFixed(0)} jobs/s`,
      ratio: "-",
      target: "-",
      met: undefined,
    },
    {
      benchmark: `server's own CPU per job, ${CONCURRENT_CLIENTS} clients (/proc/PID/stat utime + stime)`,
      figure: `${ms(serverCpuPerJob)} (user ${ms(serverUserPerJob)}, system ${ms(serverSystemPerJob)})`,
      floor: `before ${ms(SERVER_CPU_PER_JOB_BEFORE_MS)}`,
      ratio: x(serverCpuPerJob / SERVER_CPU_PER_JOB_BEFORE_MS),
      target: "≤ 0.50×",
      met: serverCpuPerJob / SERVER_CPU_PER_JOB_BEFORE_MS <= 0.5,
    },
    {
      benchmark: `server's own CPU per job at its owner's cap of kept jobs (each end deletes the oldest job), ${CONCURRENT_CLIENTS} clients`,
      figure: ms(atCapPerJob),
      floor: `the run above ${ms(serverCpuPerJob)}`,
      ratio: x(atCapPerJob / serverCpuPerJob),
      target: "-",
      met: undefined,
    },
    {
      benchmark: `server's own CPU per job against its two RPCs' share, ${CONCURRENT_CLIENTS} clients`,
      figure: ms(serverCpuPerJob),
      floor: `2 × GetJob ${ms(2 * serverCpuPerRpc)}`,
      ratio: x(serverCpuPerJob / (2 * serverCpuPerRpc)),
      target: "-",
      met: undefined,
    },
  ];
}

/** Runs CONCURRENT_JOBS of `run`, one worker per client, and returns how many finished per second. */
async function perSecond<C>(clients: C[], run: (client: C) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      while (next++ < CONCURRENT_JOBS) await run(client);
    }),
  );
  return CONCURRENT_JOBS / ((performance.now() - started) / 1000);
}
