import { describe, expect, it } from "vitest";
import type { Job } from "./job.js";
import { ManagedJob } from "./managed-job.js";

const record: Job = {
  id: "00000000-0000-4000-8000-000000000000",
  owner: "alice",
  command: "true",
  executable: "/bin/true",
  args: [],
  workingDirectory: "/work",
  limits: {},
  state: "starting",
  oomKilled: false,
  createdAt: 0,
  outputBytes: 0,
  uid: 200_000,
};

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
