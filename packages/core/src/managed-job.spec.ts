import { describe, expect, it } from "vitest";
import { ManagedJob } from "./managed-job.js";
import { jobRecord } from "./testing/job-record.js";

const record = jobRecord();

describe("a managed job", () => {
  it("tells its listener of every transition, with the record as it now is", () => {
    const seen: string[] = [];
    const job = new ManagedJob(record, (current, from) => seen.push(`${from}->${current.state}`));
    job.transition("running", { startedAt: 1 });
    job.transition("ended", { endReason: "exited", exitCode: 0 });
    expect(seen).toEqual(["starting->running", "running->ended"]);
    expect(() => job.transition("running")).toThrow(/invalid job state transition ended -> running/);
  });

  it("a waiter that gives up leaves nothing behind; the others are woken at the end", async () => {
    const job = new ManagedJob(record);
    const abort = new AbortController();
    const gaveUp = job.waitForEnd(abort.signal);
    const stayed = job.waitForEnd();
    expect(job.waiterCount).toBe(2);
    abort.abort(new Error("client went away"));
    await expect(gaveUp).rejects.toThrow("client went away");
    expect(job.waiterCount).toBe(1);
    job.transition("ended", { endReason: "exited", exitCode: 0 });
    job.markEnded();
    await stayed;
    expect(job.waiterCount).toBe(0);
    await expect(job.waitForEnd()).resolves.toBeUndefined();
  });
});
