import { execFileSync } from "node:child_process";
import { appendFile, chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobManager } from "../job-manager.js";
import { collect, needsRoot, type TempManager, tempManager, testTempDir } from "../testing/temp-manager.js";
import { waitForOutput } from "../testing/wait-for-output.js";
import type { OutputQuery } from "./output-query.js";
import { tailOffset } from "./tail-offset.js";
import { offsetSince, STRETCH_MS, stretchAt, TimeIndex } from "./time-index.js";

const alice = { owner: "alice" };

describe("finding the last lines from the end of a file", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "jobworker-tail-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("counts a last line without a newline, and reads only the blocks it needs", async () => {
    const path = join(dir, "log");
    const lines = Array.from({ length: 100_000 }, (_, i) => `line ${i}`);
    await writeFile(path, `${lines.join("\n")}\n`);
    const tail = await tailOffset(path, 3);
    expect(tail.bytesRead).toBe(4096);
    await writeFile(path, "a\nb\nc");
    expect((await tailOffset(path, 2)).offset).toBe(2);
    expect((await tailOffset(path, 10)).offset).toBe(0);
    expect((await tailOffset(path, 0)).offset).toBe(5);
    await writeFile(path, "");
    expect(await tailOffset(path, 3)).toEqual({ offset: 0, bytesRead: 0 });
  });
});

describe("the output time index", () => {
  it("starts a stretch at most every STRETCH_MS while output grows, and finds where output since a time begins", async () => {
    const dir = await mkdtemp(join(tmpdir(), "jobworker-times-"));
    try {
      const index = TimeIndex.openForAppend(join(dir, "times"));
      index.learned(10, 1000);
      index.learned(20, 1000 + STRETCH_MS - 1); // same stretch
      index.learned(20, 5000); // nothing new: no stretch
      index.learned(30, 5000);
      await index.flush();
      const entries = await index.entries();
      expect(entries).toEqual([
        { offset: 0, time: 1000 },
        { offset: 20, time: 5000 },
      ]);
      expect(stretchAt(entries, 25)).toEqual({ time: 5000, next: undefined });
      expect(stretchAt(entries, 5)).toEqual({ time: 1000, next: 20 });
      // Output learned of at or after 3000 begins with the second stretch; nothing is learned after 6000.
      expect(offsetSince(entries, 3000, 30)).toBe(20);
      expect(offsetSince(entries, 6000, 30)).toBe(30);
      // A new index on the same file (a restart) goes on after the last stretch on file,
      // and first cuts what a crash in the middle of an append left of an entry.
      await appendFile(join(dir, "times"), Buffer.alloc(5));
      const reopened = TimeIndex.openForAppend(join(dir, "times"));
      expect(await reopened.entries()).toEqual(entries);
      reopened.learned(40, 9000);
      expect((await reopened.entries()).at(-1)).toEqual({ offset: 20, time: 9000 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(needsRoot)("logs by lines and time from real jobs (needs root: namespaces, cgroups)", () => {
  let temp: TempManager;
  let manager: JobManager;

  let shared: string;
  let fifo: string;

  beforeAll(async () => {
    shared = await testTempDir("jobworker-fifo-");
    await chmod(shared, 0o755);
    fifo = join(shared, "go");
    execFileSync("mkfifo", ["-m", "0666", fifo]);
    temp = await tempManager({ exposedPaths: [{ path: shared, writable: true }] });
    manager = temp.manager;
  });
  afterAll(async () => {
    await temp.dispose();
    await rm(shared, { recursive: true, force: true });
  });

  it("the last 3 lines of seq 1 1000000 are its last three numbers", async () => {
    const job = await manager.start("alice", { command: "seq", args: ["1", "1000000"] });
    await manager.wait(job.id, alice);
    const output = await collect(manager.openOutput(job.id, alice, { tailLines: 3 }));
    expect(output.toString()).toBe("999998\n999999\n1000000\n");
    // Found from the end of the 6.9 MB log: one 4 KiB block read, not the file.
    const log = join(temp.stateDir, "jobs", job.id, "output.log");
    expect(await tailOffset(log, 3)).toEqual({ offset: 6888896 - 22, bytesRead: 4096 });
  });

  it("since skips output the server learned of before the time; timestamps stamp each stretch", async () => {
    // The job goes on only once the test opens the FIFO: after the time it chose has passed.
    const job = await manager.start("alice", {
      command: "/bin/sh",
      args: ["-c", `echo before; read go < ${fifo}; echo after`],
    });
    await waitForOutput(manager, job.id, "before\n");
    // "before" was learned of by now; output learned of from STRETCH_MS on is in another stretch.
    const since = Date.now() + STRETCH_MS;
    await new Promise((resolve) => setTimeout(resolve, STRETCH_MS + 1));
    await writeFile(fifo, "go\n");
    await manager.wait(job.id, alice);
    const text = async (query: OutputQuery) => (await collect(manager.openOutput(job.id, alice, query))).toString();
    expect(await text({ since: since - 60_000 })).toBe("before\nafter\n");
    expect(await text({ since })).toBe("after\n");
    expect(await text({ since: Date.now() + 60_000 })).toBe("");
    expect(await text({ since, tailLines: 5 })).toBe("after\n");
    const stamped = [];
    for await (const chunk of manager.openOutput(job.id, alice, { timestamps: true })) stamped.push(chunk);
    expect(stamped.map((chunk) => Buffer.from(chunk.data).toString())).toEqual(["before\n", "after\n"]);
    expect(stamped[0]?.time).toBeLessThan(since);
    expect(stamped[0]?.time).toBeGreaterThanOrEqual(job.createdAt);
    expect(stamped[1]?.time).toBeGreaterThanOrEqual(since);
  });
});
