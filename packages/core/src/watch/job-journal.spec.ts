import { describe, expect, it } from "vitest";
import { jobRecord } from "../testing/job-record.js";
import { JobJournal } from "./job-journal.js";
import { type WatchEvent, watchJobs } from "./watch-jobs.js";

describe("the job event log", () => {
  it("numbers events one by one and hands each cursor the very next one", () => {
    const journal = new JobJournal(8);
    const job = jobRecord();
    journal.append("created", job);
    journal.append("running", { ...job, state: "running" }, "starting");
    expect(journal.head).toBe(2);
    expect(journal.after(0)).toMatchObject({ revision: 1, type: "created" });
    expect(journal.after(1)).toMatchObject({ revision: 2, type: "running", from: "starting" });
    expect(journal.after(2)).toBeUndefined();
  });

  it("keeps a bounded number of events: an older cursor can no longer resume", () => {
    const journal = new JobJournal(4);
    for (let i = 0; i < 100; i++) journal.append("created", jobRecord());
    expect(journal.after(0)).toBe("gone");
    expect(journal.canResume(0)).toBe(false);
    expect(journal.canResume(99)).toBe(true);
    expect(journal.after(99)).toMatchObject({ revision: 100 });
    // Never more than the capacity plus one trimming batch.
    expect(journal.canResume(100 - 6)).toBe(false);
  });

  it("a watcher that fell behind the log gets a fresh snapshot marked reset, and an aborted one leaves no waiter", async () => {
    const journal = new JobJournal(4);
    const job = { ...jobRecord(), owner: "alice" };
    const controller = new AbortController();
    const events = watchJobs(journal, () => [job], { owner: "alice" }, { signal: controller.signal });
    expect((await events.next()).value).toMatchObject([
      { type: "snapshot", revision: 0 },
      { type: "synced", reset: false },
    ]);
    for (let i = 0; i < 50; i++) journal.append("created", job);
    expect((await events.next()).value).toMatchObject([
      { type: "snapshot", revision: 50 },
      { type: "synced", revision: 50, reset: true },
    ]);
    const pending = events.next();
    expect(journal.waiterCount).toBe(1);
    controller.abort();
    expect((await pending).done).toBe(true);
    expect(journal.waiterCount).toBe(0);
  });

  it("a watcher that keeps up gets one event per batch; one that fell behind gets what piled up, in bounded batches", async () => {
    const journal = new JobJournal(4096);
    const job = { ...jobRecord(), owner: "alice" };
    const events = watchJobs(journal, () => [], { owner: "alice" }, {});
    await events.next(); // the (empty) snapshot
    journal.append("created", job);
    expect(((await events.next()).value ?? []).map((event: WatchEvent) => event.revision)).toEqual([1]);
    for (let i = 0; i < 600; i++) journal.append("created", job);
    const sizes: number[] = [];
    for (let seen = 1; seen < 601; ) {
      const batch = (await events.next()).value ?? [];
      sizes.push(batch.length);
      seen = batch.at(-1)?.revision ?? seen;
    }
    expect(sizes).toEqual([256, 256, 88]);
    await events.return(undefined);
  });

  it("a waiting watcher wakes once for the events of one turn of the event loop, and gets them as one batch", async () => {
    const journal = new JobJournal(64);
    const job = { ...jobRecord(), owner: "alice" };
    const events = watchJobs(journal, () => [], { owner: "alice" }, {});
    await events.next(); // the (empty) snapshot
    const next = events.next(); // waits: nothing new yet
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(journal.waiterCount).toBe(1);
    // Three changes in one turn, each in a callback of its own (as one poll's launches and exits
    // are), with time between them for a woken watcher to take the first alone: one batch.
    const callbacksLater = async () => {
      for (let i = 0; i < 20; i++) await Promise.resolve();
    };
    journal.append("created", job);
    await callbacksLater();
    journal.append("running", { ...job, state: "running" }, "starting");
    await callbacksLater();
    journal.append("ended", { ...job, state: "succeeded" }, "running");
    expect(((await next).value ?? []).map((event: WatchEvent) => event.type)).toEqual(["created", "running", "ended"]);
    expect(journal.waiterCount).toBe(0);
    await events.return(undefined);
  });

  it("a resume point of another epoch starts over with a snapshot marked reset", async () => {
    const journal = new JobJournal(4);
    const events = watchJobs(
      journal,
      () => [],
      { allOwners: true },
      { resume: { epoch: "elsewhere", afterRevision: 0 } },
    );
    expect((await events.next()).value).toMatchObject([{ type: "synced", reset: true }]);
    await events.return(undefined);
  });
});
