// 6. Watchers: WatchJobs fan-out. 1,000 short jobs run through the server while
// 100 clients watch, each on its own connection; the delay from each job's end
// (its end_time, set by the server) to each watcher receiving the ENDED event,
// and the server's CPU time meanwhile. The floor is the same run with one watcher.
import { JobEventType } from "@jobworker/proto";
import type { BenchServer, JobClient } from "./lib/server.ts";
import { summarize } from "./lib/stats.ts";
import { ms, type Row, x } from "./lib/table.ts";

const JOBS = 1000;
const WATCHERS = 100;
const STARTING_CLIENTS = 8;

/** Server CPU seconds so far, from its Prometheus process metrics. */
async function serverCpuSeconds(server: BenchServer): Promise<number> {
  const match = /^process_cpu_seconds_total (\S+)$/m.exec(await server.metrics());
  return Number(match?.[1] ?? Number.NaN);
}

/** Runs JOBS jobs while `watchers` clients watch; every watcher's delay per ENDED event, and server CPU per job. */
async function runWatched(
  server: BenchServer,
  watchers: number,
): Promise<{ delays: number[]; cpuMsPerJob: number; missed: number }> {
  const controller = new AbortController();
  const delays: number[] = [];
  const seenEnds = new Array<number>(watchers).fill(0);
  let synced = 0;
  let allSynced: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    allSynced = resolve;
  });
  let allEnded: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    allEnded = resolve;
  });
  const watching = Array.from({ length: watchers }, async (_, index) => {
    const client = server.client();
    try {
      for await (const response of client.watchJobs({}, { signal: controller.signal })) {
        const received = Date.now();
        for (const event of response.events) {
          if (event.type === JobEventType.SYNCED && ++synced === watchers) allSynced();
          if (event.type !== JobEventType.ENDED || !event.job?.endTime) continue;
          const endMs = Number(event.job.endTime.seconds) * 1000 + event.job.endTime.nanos / 1e6;
          delays.push(received - endMs);
          seenEnds[index] = (seenEnds[index] ?? 0) + 1;
        }
        if (seenEnds.every((count) => count >= JOBS)) allEnded();
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
  });
  await ready;
  const cpuBefore = await serverCpuSeconds(server);
  let next = 0;
  const starters = Array.from({ length: STARTING_CLIENTS }, async () => {
    const client: JobClient = server.client();
    while (next < JOBS) {
      next++;
      const { job } = await client.startJob({ command: "/bin/true" });
      await client.waitJob({ id: job?.id ?? "" });
    }
  });
  await Promise.all(starters);
  // Every watcher sees every end, or the run says how many it missed after a grace.
  const grace = new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref());
  await Promise.race([done, grace]);
  const cpuMsPerJob = (((await serverCpuSeconds(server)) - cpuBefore) * 1000) / JOBS;
  controller.abort();
  await Promise.all(watching);
  const missed = seenEnds.reduce((sum, count) => sum + Math.max(0, JOBS - count), 0);
  await server.client().cleanJobs({});
  return { delays, cpuMsPerJob, missed };
}

export async function watchFanout(server: BenchServer): Promise<Row[]> {
  const floor = await runWatched(server, 1);
  const fanned = await runWatched(server, WATCHERS);
  const one = summarize(floor.delays);
  const many = summarize(fanned.delays);
  return [
    {
      benchmark: `event delay, ${WATCHERS} watchers, p50 (${many.count} events)`,
      figure: ms(many.p50),
      floor: `${ms(one.p50)} (1 watcher)`,
      ratio: x(many.p50 / one.p50),
      target: "-",
      met: undefined,
    },
    {
      benchmark: `event delay, ${WATCHERS} watchers, p99`,
      figure: ms(many.p99),
      floor: `${ms(one.p99)} (1 watcher)`,
      ratio: x(many.p99 / one.p99),
      target: "p99 ≤ 100 ms",
      met: many.p99 <= 100,
    },
    {
      benchmark: `server CPU per job, ${WATCHERS} watchers (${JOBS} jobs)`,
      figure: ms(fanned.cpuMsPerJob),
      floor: `${ms(floor.cpuMsPerJob)} (1 watcher)`,
      ratio: x(fanned.cpuMsPerJob / floor.cpuMsPerJob),
      target: "≤ 2× one watcher's",
      met: fanned.cpuMsPerJob <= 2 * floor.cpuMsPerJob,
    },
    {
      benchmark: "ENDED events missed by watchers",
      figure: String(fanned.missed + floor.missed),
      floor: "-",
      ratio: "-",
      target: "0",
      met: fanned.missed + floor.missed === 0,
    },
  ];
}
