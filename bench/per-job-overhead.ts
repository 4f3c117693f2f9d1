// 4. Per-job overhead: 500 sleeping jobs. Memory added per job (PSS of the launcher
// processes and the launcher service, plus the server's heap growth) and processes added per job. Also
// ListJobs and GetJob latency while they run.
import { readFile } from "node:fs/promises";
import { metricValue } from "@jobworker/testkit";
import { launcherPids } from "@jobworker/testkit/host";
import type { BenchServer } from "./lib/server.ts";
import { summarize, timeEach } from "./lib/stats.ts";
import { ms, type Row } from "./lib/table.ts";

const JOBS = 500;

export async function perJobOverhead(server: BenchServer): Promise<Row[]> {
  const client = server.client();
  const heapBefore = metricValue(await server.metrics(), "nodejs_heap_size_used_bytes");
  const ids: string[] = [];
  for (let i = 0; i < JOBS; i++) {
    const { job } = await client.startJob({ command: "/bin/sleep", args: ["3600"] });
    ids.push(job?.id ?? "");
  }
  const launchers = await launcherPids();
  // Memory counts the server's launcher service too (one per server, shared by every job).
  const pssKib = (await Promise.all((await launcherPids({ services: true })).map(pss))).reduce((a, b) => a + b, 0);
  const heapAfter = metricValue(await server.metrics(), "nodejs_heap_size_used_bytes");
  const list = summarize(await timeEach(50, () => client.listJobs({ pageSize: 1000 })));
  const get = summarize(
    await timeEach(200, () => client.getJob({ id: ids[Math.floor(Math.random() * ids.length)] ?? "" })),
  );
  const cleanStarted = performance.now();
  await client.cleanJobs({});
  const cleanMs = performance.now() - cleanStarted;

  const perJobMiB = (pssKib * 1024 + Math.max(0, heapAfter - heapBefore)) / JOBS / 2 ** 20;
  const processesPerJob = launchers.length / JOBS;
  return [
    {
      benchmark: `memory per job (${JOBS} sleeping)`,
      figure: `${(perJobMiB * 1024).toFixed(0)} KiB`,
      floor: `launcher PSS ${(pssKib / JOBS).toFixed(0)} KiB + heap ${((heapAfter - heapBefore) / JOBS / 1024).toFixed(0)} KiB`,
      ratio: "-",
      target: "≤ 1 MB",
      met: perJobMiB * 2 ** 20 <= 1e6,
    },
    {
      benchmark: "processes per job",
      figure: processesPerJob.toFixed(2),
      floor: "-",
      ratio: "-",
      target: "≤ 2",
      met: processesPerJob <= 2,
    },
    {
      benchmark: `ListJobs with ${JOBS} running, p50 / p99`,
      figure: `${ms(list.p50)} / ${ms(list.p99)}`,
      floor: "-",
      ratio: "-",
      target: "-",
      met: undefined,
    },
    {
      benchmark: `GetJob with ${JOBS} running, p50 / p99`,
      figure: `${ms(get.p50)} / ${ms(get.p99)}`,
      floor: "-",
      ratio: "-",
      target: "-",
      met: undefined,
    },
    {
      benchmark: `CleanJobs of ${JOBS} running`,
      figure: ms(cleanMs),
      floor: "-",
      ratio: "-",
      target: "-",
      met: undefined,
    },
  ];
}

/** Proportional set size in KiB: shared pages split among the processes sharing them. */
async function pss(pid: number): Promise<number> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, "utf8").catch(() => "");
  return Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
}
