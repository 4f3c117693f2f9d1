import { describe, expect, it } from "vitest";
import { assertActiveQuota, StartRateLimiter } from "./quota.js";

describe("owner quotas", () => {
  const quota = { maxActiveJobs: 2, startsPerSecond: 5 };

  it("refuses an owner's start past its active jobs, naming the quota and its value", () => {
    expect(() => assertActiveQuota("alice", 1, quota)).not.toThrow();
    expect(() => assertActiveQuota("alice", 2, quota)).toThrow(
      expect.objectContaining({ code: "resource_exhausted", message: expect.stringContaining("max active jobs 2") }),
    );
  });

  it("has no limits of its own unless given some: a program running its own jobs is bounded by the manager alone", () => {
    const limiter = new StartRateLimiter(() => 0);
    for (let i = 0; i < 10_000; i++) limiter.take("local", {});
    expect(() => assertActiveQuota("local", 10_000, {})).not.toThrow();
  });

  it("lets a burst of twice the start rate through, then one start per 1/rate seconds, per owner", () => {
    let now = 0;
    const limiter = new StartRateLimiter(() => now);
    for (let i = 0; i < 10; i++) limiter.take("alice", quota);
    expect(() => limiter.take("alice", quota)).toThrow(/5 starts per second/);
    limiter.take("bob", quota); // another owner has a bucket of its own
    now += 200;
    limiter.take("alice", quota);
    expect(() => limiter.take("alice", quota)).toThrow(expect.objectContaining({ code: "resource_exhausted" }));
  });
});
