import { describe, expect, it } from "vitest";
import { expiredJobs } from "./retention.js";
import { jobRecord } from "./testing/job-record.js";

const ended = (id: string, endedAt: number) => jobRecord({ id, state: "ended", createdAt: endedAt - 10, endedAt });

describe("retention", () => {
  it("expires jobs that ended longer ago than the retention time, then the oldest past the count", () => {
    const jobs = [ended("d", 4000), ended("a", 1000), ended("c", 3000), ended("b", 2000)];
    expect(expiredJobs(jobs, { retentionMs: 10_000, maxEndedJobs: 10 }, 5000)).toEqual([]);
    expect(expiredJobs(jobs, { retentionMs: 2500, maxEndedJobs: 10 }, 5000).sort()).toEqual(["a", "b"]);
    expect(expiredJobs(jobs, { retentionMs: 10_000, maxEndedJobs: 1 }, 5000).sort()).toEqual(["a", "b", "c"]);
    expect(expiredJobs(jobs, { retentionMs: 3500, maxEndedJobs: 1 }, 5000).sort()).toEqual(["a", "b", "c"]);
  });
});
