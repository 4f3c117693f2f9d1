import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { type JobClient, metricValue, ServerProcess } from "@jobworker/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launcherPids } from "./host.js";
import { report } from "./report.js";
import { SCALE } from "./scale.js";

const needsRoot = process.getuid?.() !== 0;

function sha(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

async function output(client: JobClient, id: string): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of client.streamOutput({ id, follow: true })) parts.push(chunk.data);
  return Buffer.concat(parts);
}

function percentiles(samples: number[]): { p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

describe.skipIf(needsRoot)("load (needs root: real jobs)", () => {
  let server: ServerProcess;
  let clients: JobClient[];

  beforeAll(async () => {
    // Many clients of one identity start jobs as fast as they can: lift that identity's quotas.
    server = await ServerProcess.start({
      args: [
        "--max-jobs",
        "2000",
        "--max-running-jobs-per-owner",
        "2000",
        "--max-starts-per-second-per-owner",
        "100000",
      ],
    });
    clients = await Promise.all(Array.from({ length: SCALE.clients }, () => server.client()));
  });

  afterAll(() => server.dispose());

  it(`3 × ${SCALE.jobs} jobs from ${SCALE.clients} concurrent clients: every byte verified, resources back to baseline`, async () => {
    const warm = clients[0]!;
    await output(warm, (await warm.startJob({ command: "/bin/true" })).job!.id);
    await warm.cleanJobs({});
    // Every client's connection is open before the baseline: connections are not leaks.
    await Promise.all(clients.map((client) => client.listJobs({})));
    const before = await server.metrics();
    const batch = async () => {
      let next = 0;
      let bytes = 0;
      const mismatches: number[] = [];
      const started = performance.now();
      await Promise.all(
        clients.map(async (client) => {
          for (let i = next++; i < SCALE.jobs; i = next++) {
            const lines = 1000 + i;
            const { job } = await client.startJob({ command: "/usr/bin/seq", args: ["1", String(lines)] });
            const got = await output(client, job!.id);
            const expected = Array.from({ length: lines }, (_, n) => `${n + 1}\n`).join("");
            if (sha(got) !== sha(expected)) mismatches.push(i);
            bytes += got.length;
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      expect(mismatches).toEqual([]);
      expect((await warm.cleanJobs({})).deletedCount).toBe(SCALE.jobs);
      return { bytes, seconds, metrics: await server.metrics() };
    };
    // Three batches: memory a process keeps after the first ones (V8 heap pages, malloc
    // arenas, the bounded event journal filling) is retention, and with small batches it
    // is still settling after one; memory that grows again with the third would be a leak.
    const batches = [await batch(), await batch(), await batch()];
    const metrics = [before, ...batches.map((b) => b.metrics)];
    const fds = metrics.map((m) => metricValue(m, "process_open_fds"));
    const rss = metrics.map((m) => metricValue(m, "process_resident_memory_bytes") / 2 ** 20);
    expect(fds.slice(1)).toEqual([fds[0], fds[0], fds[0]]);
    expect((rss[3] ?? 0) - (rss[2] ?? 0)).toBeLessThan(16);
    expect(await launcherPids()).toEqual([]);
    const bytes = batches.reduce((sum, b) => sum + b.bytes, 0);
    const seconds = batches.reduce((sum, b) => sum + b.seconds, 0);
    report(
      `3 batches of ${SCALE.jobs} jobs started by ${SCALE.clients} concurrent clients, known output each`,
      "every byte verified by SHA-256 through StreamOutput; no errors; after clean, server fds back to baseline and RSS not growing from the second batch to the third",
      `3 × ${SCALE.jobs} jobs, ${(bytes / 2 ** 20).toFixed(1)} MiB verified, 0 mismatches, ${((3 * SCALE.jobs) / seconds).toFixed(0)} jobs/s; fds ${fds.join(" → ")}; RSS ${rss.map((v) => v.toFixed(0)).join(" → ")} MiB (baseline → after each batch)`,
    );
  });

  it(`${SCALE.followers} concurrent followers of one chatty job receive identical bytes`, async () => {
    const client = clients[0]!;
    const script = 'i=0; while [ $i -lt 20000 ]; do echo "line $i of a chatty job"; i=$((i+1)); done';
    const { job } = await client.startJob({ command: "/bin/sh", args: ["-c", script] });
    const outputs = await Promise.all(
      Array.from({ length: SCALE.followers }, (_, i) => output(clients[i % clients.length]!, job!.id)),
    );
    const hashes = new Set(outputs.map(sha));
    expect(hashes.size).toBe(1);
    expect(outputs[0]?.toString().split("\n").length).toBe(20001);
    await client.cleanJobs({});
    report(
      `${SCALE.followers} concurrent followers of one chatty job (20000 lines)`,
      "all followers receive identical bytes, all lines present",
      `${SCALE.followers} identical outputs of ${outputs[0]?.length} bytes`,
    );
  });

  it(`${SCALE.running} jobs running at once: list and status stay fast; per-job overhead`, async () => {
    const client = clients[0]!;
    const heapBefore = metricValue(await server.metrics(), "nodejs_heap_size_used_bytes");
    const ids: string[] = [];
    let next = 0;
    await Promise.all(
      clients.map(async (c) => {
        while (next++ < SCALE.running) ids.push((await c.startJob({ command: "/bin/sleep", args: ["3600"] })).job!.id);
      }),
    );
    const listMs: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      const { jobs } = await client.listJobs({ pageSize: 1000 });
      listMs.push(performance.now() - t);
      expect(jobs.length).toBe(SCALE.running);
    }
    const getMs: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await client.getJob({ id: ids[i % ids.length]! });
      getMs.push(performance.now() - t);
    }
    const launchers = await launcherPids();
    let pssKib = 0;
    for (const pid of launchers) {
      const rollup = await readFile(`/proc/${pid}/smaps_rollup`, "utf8").catch(() => "");
      pssKib += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
    }
    const heapGrowth = metricValue(await server.metrics(), "nodejs_heap_size_used_bytes") - heapBefore;
    await client.cleanJobs({});
    const list = percentiles(listMs);
    const get = percentiles(getMs);
    expect(launchers.length).toBe(2 * SCALE.running);
    report(
      `${SCALE.running} jobs running at once`,
      "ListJobs and GetJob latency; launcher PSS and server heap growth per job; processes per job",
      `ListJobs p50 ${list.p50.toFixed(1)} ms, p99 ${list.p99.toFixed(1)} ms; GetJob p50 ${get.p50.toFixed(2)} ms, p99 ${get.p99.toFixed(2)} ms; ` +
        `per job: launcher PSS ${(pssKib / SCALE.running).toFixed(0)} KiB + heap ${(heapGrowth / SCALE.running / 1024).toFixed(0)} KiB, ${launchers.length / SCALE.running} processes`,
    );
  });
});
