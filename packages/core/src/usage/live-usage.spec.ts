import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobManager } from "../job-manager.js";
import { needsRoot, type TempManager, tempManager } from "../testing/temp-manager.js";
import { waitForOutput } from "../testing/wait-for-output.js";

const alice = { owner: "alice" };
const MiB = 2 ** 20;

/** The usage samples of `watch` until one passes `done`, failing after `ms`. */
async function sampleUntil<T>(samples: AsyncIterator<T>, done: (sample: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no fitting sample within ${ms} ms`)),
        Math.max(0, deadline - Date.now()),
      );
    });
    const next = await Promise.race([samples.next(), late]).finally(() => clearTimeout(timer));
    if (next.done) throw new Error("the samples ended");
    if (done(next.value)) return next.value;
  }
}

describe.skipIf(needsRoot)("live usage of running jobs (needs root: cgroups)", () => {
  let temp: TempManager;
  let manager: JobManager;

  beforeAll(async () => {
    temp = await tempManager({ maxConcurrentJobs: 16 });
    manager = temp.manager;
  });

  afterAll(async () => {
    await temp.dispose();
  });

  it("shows the memory a job holds now: 50 MiB written to its tmpfs reads as 50 to 80 MiB", async () => {
    // The job's /tmp is a tmpfs charged to its cgroup: the 50 MiB stay held until it ends.
    const job = await manager.start("alice", {
      command: "/bin/sh",
      args: ["-c", "head -c 52428800 /dev/zero > /tmp/fill && echo filled && exec sleep 60"],
      limits: { memoryBytes: 256 * MiB },
    });
    await waitForOutput(manager, job.id, "filled\n");
    const usage = await manager.liveUsage(job.id, alice);
    expect(usage?.memoryCurrentBytes).toBeGreaterThanOrEqual(50 * MiB);
    expect(usage?.memoryCurrentBytes).toBeLessThanOrEqual(80 * MiB);
    expect(usage?.memoryPeakBytes).toBeGreaterThanOrEqual(usage?.memoryCurrentBytes ?? Number.POSITIVE_INFINITY);
    expect(usage?.pidsCurrent).toBeGreaterThanOrEqual(1);
    expect(usage?.outputBytes).toBe(7);
    await manager.stop(job.id, alice, { graceMs: 0 });
    expect(await manager.liveUsage(job.id, alice)).toBeUndefined();
  });

  it("a job spinning at --cpu 500m shows 40-60 % between two samples, and watchers share one read per job per tick", async () => {
    const job = await manager.start("alice", {
      command: "/bin/sh",
      args: ["-c", "while :; do :; done"],
      limits: { cpuMillicores: 500 },
    });
    const controller = new AbortController();
    const watchers = Array.from({ length: 5 }, () =>
      manager.watchUsage(alice, { ids: [job.id], intervalMs: 500, signal: controller.signal }),
    );
    const first = watchers[0];
    if (!first) throw new Error("no watcher");
    // A watcher joins its interval's timer at its first read; the first sample averages over the job's life so far.
    await Promise.all(watchers.map((watcher) => watcher.next()));
    // The quota holds the job to 50 % at most; on a machine busy with other work it may get less for a
    // while, so up to ten intervals are looked at: none may pass 60 %, and one must land within 40-60 %.
    const percents: number[] = [];
    while (percents.length < 10 && !percents.some((percent) => percent >= 40 && percent <= 60)) {
      const sample = await sampleUntil(first, (next) => next.jobs.length === 1);
      percents.push(sample.jobs[0]?.usage.cpuPercent ?? -1);
    }
    expect(Math.max(...percents)).toBeLessThanOrEqual(60);
    expect(
      percents.some((percent) => percent >= 40 && percent <= 60),
      `CPU % per interval: ${percents}`,
    ).toBe(true);
    // From here on every watcher gets the same ticks, each from one read of the job.
    const mark = Date.now();
    const readsBefore = manager.usageReads;
    const ticks = await Promise.all(watchers.map((watcher) => sampleUntil(watcher, (sample) => sample.at > mark)));
    expect(new Set(ticks.map((tick) => tick.at)).size).toBe(1);
    expect(manager.usageReads - readsBefore).toBeLessThanOrEqual(2);
    controller.abort();
    for (const watcher of watchers) expect((await watcher.next()).done).toBe(true);
    await manager.stop(job.id, alice, { graceMs: 0 });
  });

  it("refuses an interval below 250 ms", () => {
    expect(() => manager.watchUsage(alice, { intervalMs: 100, signal: new AbortController().signal })).toThrow(
      /between 250 ms/,
    );
  });
});
