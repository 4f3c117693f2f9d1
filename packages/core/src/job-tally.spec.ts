import { describe, expect, it } from "vitest";
import type { Job } from "./job.js";
import { JobTally } from "./job-tally.js";
import { jobRecord } from "./testing/job-record.js";

/** A job as the manager holds it, enough for the tally: its record, which changes as it ends. */
class HeldJob {
  constructor(public record: Job) {}
  end(endedAt: number, outputBytes: number): void {
    this.record = { ...this.record, state: "ended", endedAt, outputBytes };
  }
}

const job = (id: string, owner: string, changes: Partial<Job> = {}) =>
  new HeldJob(jobRecord({ id, owner, state: "running", ...changes }));

describe("job tally", () => {
  it("counts active jobs per owner and ended jobs' output as jobs start, end and go", () => {
    const tally = new JobTally<HeldJob>();
    const a1 = job("a1", "alice");
    const a2 = job("a2", "alice");
    const b1 = job("b1", "bob");
    for (const held of [a1, a2, b1]) tally.add(held);
    expect([tally.active, tally.activeOf("alice"), tally.activeOf("bob"), tally.endedOutputBytes]).toEqual([
      3, 2, 1, 0,
    ]);
    a1.end(1000, 500);
    tally.ended(a1);
    expect([tally.active, tally.activeOf("alice"), tally.endedOutputBytes]).toEqual([2, 1, 500]);
    tally.remove(a1);
    tally.remove(b1); // a failed start: removed while active
    expect([tally.active, tally.activeOf("alice"), tally.activeOf("bob"), tally.endedOutputBytes]).toEqual([
      1, 1, 0, 0,
    ]);
    expect(tally.ownersWithEndedJobs()).toEqual([]);
  });

  it("knows names until the job is removed, and expires the oldest ends first, per owner", () => {
    const tally = new JobTally<HeldJob>();
    const named = job("n", "alice", { name: "build" });
    tally.add(named);
    expect(tally.named("alice", "build")).toBe(named);
    expect(tally.named("bob", "build")).toBeUndefined();
    const ended = [3000, 1000, 2000].map((at, i) => {
      const held = job(`e${i}`, "alice", { state: "ended", endedAt: at, outputBytes: 10 });
      tally.add(held); // loaded at start-up, not in end order
      return held;
    });
    expect(tally.endedOutputBytes).toBe(30);
    const expired = tally.expire("alice", { retentionMs: 60_000, maxEndedJobs: 1 }, 4000);
    expect(expired.map((held) => held.record.id)).toEqual(["e1", "e2"]);
    for (const held of expired) tally.remove(held);
    expect(tally.endedOutputBytes).toBe(10);
    tally.remove(named);
    expect(tally.named("alice", "build")).toBeUndefined();
    expect(ended[0] && tally.expire("alice", { retentionMs: 500, maxEndedJobs: 10 }, 4000)).toEqual([ended[0]]);
  });
});
