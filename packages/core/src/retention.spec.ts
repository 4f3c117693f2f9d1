import { describe, expect, it } from "vitest";
import type { Job } from "./job.js";
import { RetentionQueue } from "./retention.js";
import { jobRecord } from "./testing/job-record.js";

const ended = (id: string, endedAt: number) => ({
  record: jobRecord({ id, state: "ended", createdAt: endedAt - 10, endedAt }) as Job,
});
const ids = (jobs: readonly { record: Job }[]) => jobs.map((job) => job.record.id);

describe("retention", () => {
  it("expires jobs that ended longer ago than the retention time, then the oldest past the count", () => {
    const fill = () => {
      const queue = new RetentionQueue<{ record: Job }>();
      // Loaded records come in creation order, not end order.
      for (const job of [ended("d", 4000), ended("a", 1000), ended("c", 3000), ended("b", 2000)]) queue.add(job);
      return queue;
    };
    expect(ids(fill().expire({ retentionMs: 10_000, maxEndedJobs: 10 }, 5000))).toEqual([]);
    expect(ids(fill().expire({ retentionMs: 2500, maxEndedJobs: 10 }, 5000))).toEqual(["a", "b"]);
    expect(ids(fill().expire({ retentionMs: 10_000, maxEndedJobs: 1 }, 5000))).toEqual(["a", "b", "c"]);
    expect(ids(fill().expire({ retentionMs: 3500, maxEndedJobs: 1 }, 5000))).toEqual(["a", "b", "c"]);
    const queue = fill();
    queue.expire({ retentionMs: 10_000, maxEndedJobs: 2 }, 5000);
    expect(queue.size).toBe(2);
  });

  it("skips jobs removed by hand, and keeps its length within twice the jobs kept", () => {
    const queue = new RetentionQueue<{ record: Job }>();
    const jobs = Array.from({ length: 1000 }, (_, i) => ended(`j${i}`, 1000 + i));
    for (const job of jobs) queue.add(job);
    for (const job of jobs.slice(0, 990)) if (job.record.id !== "j5") queue.remove(job);
    expect(queue.size).toBe(11);
    expect(ids(queue.expire({ retentionMs: 10_000, maxEndedJobs: 9 }, 2000))).toEqual(["j5", "j990"]);
    expect((queue as unknown as { entries: unknown[] }).entries.length).toBeLessThanOrEqual(2 * queue.size + 32);
  });
});
