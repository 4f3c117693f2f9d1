import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isJobError } from "./errors.js";
import { DEFAULT_OWNER } from "./owner-jobs.js";
import { collect, needsRoot, type TempManager, tempManager } from "./testing/temp-manager.js";
import { waitForOutput } from "./testing/wait-for-output.js";

describe.skipIf(needsRoot)("a program's own jobs, with no owner or scope (needs root)", () => {
  let temp: TempManager;

  beforeAll(async () => {
    temp = await tempManager();
  });

  afterAll(async () => {
    await temp.dispose();
  });

  it("forOwner() starts, waits for and reads jobs of the default owner", async () => {
    const jobs = temp.manager.forOwner();
    const job = await jobs.start({ command: "sh", args: ["-c", "echo hi; exit 4"] });
    expect(job.owner).toBe(DEFAULT_OWNER);
    expect(await jobs.wait(job.id)).toMatchObject({ state: "ended", endReason: "exited", exitCode: 4 });
    expect((await collect(jobs.openOutput(job.id))).toString()).toBe("hi\n");
    expect(jobs.list().map((listed) => listed.id)).toContain(job.id);
    await jobs.delete(job.id);
    expect(jobs.list().map((listed) => listed.id)).not.toContain(job.id);
  });

  it("one owner's handle answers not_found for another owner's job", async () => {
    const bob = await temp.manager.forOwner("bob").start({ command: "true" });
    const mine = temp.manager.forOwner();
    expect(() => mine.get(bob.id)).toThrow(expect.objectContaining({ code: "not_found" }));
    expect(mine.list().map((listed) => listed.id)).not.toContain(bob.id);
    await temp.manager.forOwner("bob").wait(bob.id);
  });

  it("subscribe tells of each change of this owner's jobs, and of no one else's", async () => {
    const jobs = temp.manager.forOwner("dave");
    const seen: string[] = [];
    let ended: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      ended = resolve;
    });
    const unsubscribe = jobs.subscribe((job, from) => {
      seen.push(`${job.owner} ${from}->${job.state}`);
      if (job.state === "ended") ended();
    });
    const other = await temp.manager.forOwner("erin").start({ command: "true" });
    await jobs.start({ command: "true" });
    await Promise.race([
      done,
      new Promise((_, reject) =>
        AbortSignal.timeout(20_000).addEventListener("abort", () => reject(new Error("no end seen"))),
      ),
    ]);
    unsubscribe();
    await temp.manager.forOwner("erin").wait(other.id);
    expect(seen).toEqual(["dave starting->running", "dave running->ended"]);
  });

  it("a start with an aborted signal starts nothing and rejects with the reason", async () => {
    const jobs = temp.manager.forOwner("frank");
    const started = jobs.start({ command: "sleep", args: ["30"] }, { signal: AbortSignal.abort(new Error("no")) });
    await expect(started).rejects.toThrow("no");
    expect(jobs.list()).toEqual([]);
  });

  it("a start aborted while the job launches kills and deletes the job, and rejects with the reason", async () => {
    const jobs = temp.manager.forOwner("grace");
    const seen: string[] = [];
    const unsubscribe = jobs.subscribe((job, from) => seen.push(`${from}->${job.state}`));
    const controller = new AbortController();
    const started = jobs.start({ command: "sleep", args: ["30"] }, { signal: controller.signal });
    controller.abort(new Error("changed my mind"));
    await expect(started).rejects.toThrow("changed my mind");
    unsubscribe();
    expect(seen).toEqual(["starting->running", "running->stopping", "stopping->ended"]);
    expect(jobs.list()).toEqual([]);
  });

  it("an empty owner is refused as invalid_argument", () => {
    expect(() => temp.manager.forOwner("")).toThrow(expect.objectContaining({ code: "invalid_argument" }));
  });

  it("outputStream is a Readable of the job's bytes, binary and in order", async () => {
    const jobs = temp.manager.forOwner();
    const job = await jobs.start({ command: "printf", args: ["a\\000b\\377c"] });
    await jobs.wait(job.id);
    const parts: Buffer[] = [];
    for await (const part of jobs.outputStream(job.id)) parts.push(part);
    expect(Buffer.concat(parts)).toEqual(Buffer.from([0x61, 0, 0x62, 0xff, 0x63]));
  });

  it("outputStream from an offset skips the bytes before it", async () => {
    const jobs = temp.manager.forOwner();
    const job = await jobs.start({ command: "printf", args: ["0123456789"] });
    await jobs.wait(job.id);
    const parts: Buffer[] = [];
    for await (const part of jobs.outputStream(job.id, { fromOffset: 6 })) parts.push(part);
    expect(Buffer.concat(parts).toString()).toBe("6789");
  });

  it("aborting a stop's wait rejects with the signal's reason while the stop carries on to the end", async () => {
    const jobs = temp.manager.forOwner();
    // Ignores SIGTERM, so the stop has to wait out its grace before the kill.
    const job = await jobs.start({
      command: "sh",
      args: ["-c", "trap '' TERM; echo ready; while :; do sleep 1; done"],
    });
    await waitForOutput(temp.manager, job.id, "ready");
    const controller = new AbortController();
    const stopping = jobs.stop(job.id, { graceMs: 3000, signal: controller.signal });
    controller.abort(new Error("gave up"));
    await expect(stopping).rejects.toThrow("gave up");
    const ended = await jobs.wait(job.id, { signal: AbortSignal.timeout(20_000) });
    expect(ended).toMatchObject({ state: "ended", endReason: "stopped" });
  });

  it("a wait with an aborted signal rejects at once and leaves the job running", async () => {
    const jobs = temp.manager.forOwner();
    const job = await jobs.start({ command: "sleep", args: ["30"] });
    const error = await jobs.wait(job.id, { signal: AbortSignal.abort(new Error("not now")) }).catch((e) => e);
    expect(error).toEqual(new Error("not now"));
    expect(isJobError(error)).toBe(false);
    expect(jobs.get(job.id).state).toBe("running");
    await jobs.stop(job.id, { graceMs: 0 });
  });

  it("aborting clean's wait rejects while its stops carry on to the end", async () => {
    const jobs = temp.manager.forOwner("carol");
    const job = await jobs.start({
      command: "sh",
      args: ["-c", "trap '' TERM; echo ready; while :; do sleep 1; done"],
    });
    await waitForOutput(temp.manager, job.id, "ready");
    const controller = new AbortController();
    const cleaning = jobs.clean({ signal: controller.signal });
    controller.abort(new Error("enough"));
    await expect(cleaning).rejects.toThrow("enough");
    const ended = await temp.manager.wait(job.id, { allOwners: true }, { signal: AbortSignal.timeout(20_000) });
    expect(ended).toMatchObject({ state: "ended", endReason: "stopped" });
  });
});
