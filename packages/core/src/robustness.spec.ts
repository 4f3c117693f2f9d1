import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileDisappears, processesOfUid } from "@jobworker/testkit/host";
import { afterEach, describe, expect, it } from "vitest";
import { detectLayout } from "./cgroups/layout.js";
import type { Job } from "./job.js";
import { JobManager } from "./job-manager.js";
import type { JobManagerOptions } from "./options.js";
import { needsRoot, runScript, type TempManager, tempManager } from "./testing/temp-manager.js";
import { waitForOutput } from "./testing/wait-for-output.js";

const alice = { owner: "alice" };
const admin = { allOwners: true } as const;

describe.skipIf(needsRoot)("the job manager under abuse and failure (needs root: real jobs)", () => {
  let temp: TempManager | undefined;
  afterEach(async () => {
    await temp?.dispose();
    temp = undefined;
  });
  const open = async (options: Partial<JobManagerOptions> = {}): Promise<JobManager> => {
    temp = await tempManager(options);
    return temp.manager;
  };
  /** A job that ignores SIGTERM and has said so. */
  const stubborn = async (manager: JobManager, options = {}): Promise<Job> => {
    const job = await manager.start("alice", {
      command: "/bin/sh",
      args: ["-c", "trap '' TERM; echo ready; while :; do sleep 1; done"],
      ...options,
    });
    await waitForOutput(manager, job.id, "ready");
    return job;
  };

  it("a later stop with a shorter grace takes over a long one, and both return the end", async () => {
    const manager = await open({ maxGraceMs: 600_000 });
    const job = await stubborn(manager);
    const long = manager.stop(job.id, alice, { graceMs: 600_000 });
    expect(manager.get(job.id, alice).state).toBe("stopping");
    const short = await manager.stop(job.id, admin, { graceMs: 0 });
    expect(short).toMatchObject({ state: "ended", endReason: "stopped", signal: 9 });
    expect(await long).toEqual(short);
  });

  it("refuses a grace above the server's maximum, and the job keeps running", async () => {
    const manager = await open({ maxGraceMs: 1000 });
    const job = await stubborn(manager);
    await expect(manager.stop(job.id, alice, { graceMs: 2 ** 31 - 1 })).rejects.toMatchObject({
      code: "invalid_argument",
      message: expect.stringMatching(/grace must be between 0 and 1000 ms/),
    });
    expect(manager.get(job.id, alice).state).toBe("running");
  });

  it("the runtime limit ends a job pinned in a long stop", async () => {
    const manager = await open({ maxGraceMs: 600_000, defaultGraceMs: 0 });
    const job = await stubborn(manager, { maxRuntimeMs: 300 });
    const stopped = await manager.stop(job.id, alice, { graceMs: 600_000 });
    expect(stopped).toMatchObject({ state: "ended", signal: 9 });
  });

  it("a stop does not wait for a record that cannot be saved", async () => {
    const manager = await open();
    const job = await stubborn(manager);
    // A directory where the record goes: every save fails, as on a full disk.
    const record = join(temp?.stateDir ?? "", "jobs", job.id, "record.json");
    await rm(record);
    await mkdir(join(record, "blocked"), { recursive: true });
    const stopped = await manager.stop(job.id, alice, { graceMs: 0 });
    expect(stopped).toMatchObject({ state: "ended", endReason: "stopped" });
    expect(temp?.warnings.some((warning) => warning.includes(`saving its stop for job ${job.id} failed`))).toBe(true);
    await rm(record, { recursive: true });
  });

  it("a corrupt exit record ends the job as lost, with a warning, and the server carries on", async () => {
    const manager = await open();
    const { job } = await runScript(manager, "exit 3");
    const dir = join(temp?.stateDir ?? "", "jobs", job.id);
    // As if the server had stopped while the job ran, and the record were then corrupted.
    const record: Job = JSON.parse(await readFile(join(dir, "record.json"), "utf8"));
    await writeFile(join(dir, "record.json"), JSON.stringify({ ...record, state: "running" }));
    await writeFile(join(dir, "exit.json"), "{not json");
    const reopened = (await temp?.reopen()) as JobManager;
    expect(reopened.get(job.id, alice)).toMatchObject({
      state: "ended",
      endReason: "lost",
      endDetail: expect.stringMatching(/exit record could not be read/),
    });
    expect(temp?.warnings.some((warning) => warning.includes("is unusable"))).toBe(true);
    expect((await runScript(reopened, "echo still serving")).output).toBe("still serving\n");
  });

  it("a malformed job record is skipped with a warning, not a failed start-up", async () => {
    const manager = await open();
    const { job } = await runScript(manager, "true");
    await writeFile(join(temp?.stateDir ?? "", "jobs", job.id, "record.json"), JSON.stringify({ id: job.id }));
    const reopened = (await temp?.reopen()) as JobManager;
    expect(() => reopened.get(job.id, alice)).toThrow(/not found/);
    expect(temp?.warnings.some((warning) => warning.includes(`skipping job ${job.id}`))).toBe(true);
    await rm(join(temp?.stateDir ?? "", "jobs", job.id), { recursive: true });
  });

  it("a job recorded once, as starting, is re-adopted after a restart through its launcher's launch record", async () => {
    const manager = await open();
    const job = await stubborn(manager);
    const dir = join(temp?.stateDir ?? "", "jobs", job.id);
    // A start is saved once, before the launch: what a crash at any moment after it leaves on disk.
    expect(JSON.parse(await readFile(join(dir, "record.json"), "utf8"))).toMatchObject({ state: "starting" });
    const reopened = (await temp?.reopen()) as JobManager;
    expect(reopened.get(job.id, alice)).toMatchObject({ state: "running", launcher: job.launcher });
    expect(await reopened.stop(job.id, alice, { graceMs: 0 })).toMatchObject({
      state: "ended",
      endReason: "stopped",
      signal: 9,
    });
    expect(await processesOfUid(job.uid)).toEqual([]);
  });

  it("a job still recorded as starting whose launcher left no launch record is settled as lost, its processes killed", async () => {
    const manager = await open();
    const job = await stubborn(manager);
    const dir = join(temp?.stateDir ?? "", "jobs", job.id);
    // What a crash in the middle of the launch would leave, with the processes of a job that got further.
    await rm(join(dir, "exit.json.tmp"));
    const reopened = (await temp?.reopen()) as JobManager;
    expect(reopened.get(job.id, alice)).toMatchObject({
      state: "ended",
      endReason: "lost",
      endDetail: "the server stopped while starting it",
    });
    expect(await processesOfUid(job.uid)).toEqual([]);
  });

  it("one owner cannot take every slot: its active jobs stop at its quota, others still start", async () => {
    const manager = await open({ defaultQuota: { maxActiveJobs: 2, startsPerSecond: 100 } });
    await stubborn(manager);
    await stubborn(manager);
    await expect(manager.start("alice", { command: "/bin/true" })).rejects.toMatchObject({
      code: "resource_exhausted",
      message: expect.stringMatching(/max active jobs 2/),
    });
    const bobs = await manager.start("bob", { command: "/bin/true" });
    expect(bobs.state).toBe("running");
    // An admin's quota is the server's to give: a larger one lets the same owner name start more.
    const more = await manager.start(
      "alice",
      { command: "/bin/true" },
      { quota: { maxActiveJobs: 10, startsPerSecond: 100 } },
    );
    expect(more.state).toBe("running");
  });

  it("an owner's oldest ended jobs past the kept count are deleted with their output", async () => {
    const manager = await open({ maxEndedJobsPerOwner: 2 });
    const first = (await runScript(manager, "echo 1")).job;
    await runScript(manager, "echo 2");
    await runScript(manager, "echo 3");
    expect(() => manager.get(first.id, alice)).toThrow(/not found/);
    // Its files go in the background.
    await fileDisappears(join(temp?.stateDir ?? "", "jobs"), first.id);
    expect(manager.list(alice)).toHaveLength(2);
  });

  it("an owner whose quota names its own count of kept jobs (an admin's, say) keeps that many", async () => {
    const manager = await open({ maxEndedJobsPerOwner: 1 });
    const quota = { maxActiveJobs: 10, startsPerSecond: 100, maxEndedJobs: 3 };
    for (let i = 0; i < 3; i++) {
      const job = await manager.start("root-ish", { command: "/bin/true" }, { quota });
      await manager.wait(job.id, { owner: "root-ish" });
    }
    for (let i = 0; i < 3; i++) await runScript(manager, "true", {}, "bob");
    expect(manager.list({ owner: "root-ish" })).toHaveLength(3);
    expect(manager.list({ owner: "bob" })).toHaveLength(1);
  });

  it("lists in pages that neither repeat nor skip a job, even when jobs go between pages", async () => {
    const manager = await open();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await runScript(manager, `exit ${i}`)).job.id);
    const first = manager.listPage(alice, {}, { size: 2 });
    expect(first.jobs.map((job) => job.id)).toEqual(ids.slice(0, 2));
    await manager.delete(ids[1] as string, alice); // the page token's own job
    const second = manager.listPage(alice, {}, { size: 2, token: first.nextPageToken });
    expect(second.jobs.map((job) => job.id)).toEqual(ids.slice(2, 4));
    const third = manager.listPage(alice, {}, { size: 2, token: second.nextPageToken });
    expect(third).toEqual({ jobs: [expect.objectContaining({ id: ids[4] })], nextPageToken: undefined });
  });

  it("a second manager on the same state dir is refused while the first runs", async () => {
    await open();
    await expect(
      JobManager.open({
        stateDir: temp?.stateDir ?? "",
        cgroupParent: "jobworker-test-second",
        uidRange: { first: 90_000_000, count: 10 },
      }),
    ).rejects.toThrow(/state dir .* is already used by the jobworker manager of pid/);
  });

  it("all jobs together stay under the jobs' ceiling, set on their parent cgroup", async () => {
    const layout = await detectLayout();
    const manager = await open({ jobsCeiling: { memoryBytes: 96 * 2 ** 20, maxPids: 40 } });
    const parent = temp?.cgroupParent ?? "";
    const [memoryFile, pidsFile] =
      layout.kind === "v2"
        ? [join(layout.unifiedRoot ?? "", parent, "memory.max"), join(layout.unifiedRoot ?? "", parent, "pids.max")]
        : [
            join(layout.v1Roots.get("memory") ?? "", parent, "memory.limit_in_bytes"),
            join(layout.v1Roots.get("pids") ?? "", parent, "pids.max"),
          ];
    expect((await readFile(memoryFile, "utf8")).trim()).toBe(String(96 * 2 ** 20));
    expect((await readFile(pidsFile, "utf8")).trim()).toBe("40");
    // Two jobs, each within its own limit of 64 MiB, together past the 96 MiB ceiling: the kernel stops one.
    // /dev/shm is memory: its pages count against the job's memory cgroup and so against the ceiling.
    const hog = "head -c 60M /dev/zero > /dev/shm/fill && echo filled; sleep 1000";
    const first = await manager.start("alice", {
      command: "/bin/sh",
      args: ["-c", hog],
      limits: { memoryBytes: 64 * 2 ** 20 },
    });
    await waitForOutput(manager, first.id, "filled");
    const second = await runScript(manager, "head -c 60M /dev/zero > /dev/shm/fill && echo filled", {
      limits: { memoryBytes: 64 * 2 ** 20 },
    });
    // The kernel picks who pays: the second fails to fill, or the first is OOM-killed (its tmpfs goes
    // with it), or both, when the first lost a process before the second gave up. Never neither.
    const firstEnds = () => manager.wait(first.id, alice, AbortSignal.timeout(10_000));
    if (second.output.includes("filled")) {
      // The first made room by losing a process to the OOM killer (its sleep, or its shell): it ends,
      // recorded once its launcher has written the end.
      expect(await firstEnds()).toMatchObject({ state: "ended", oomKilled: true });
    } else {
      expect(second.job.oomKilled || second.job.exitCode !== 0).toBe(true);
      if (manager.get(first.id, alice).state === "running") await manager.stop(first.id, alice, { graceMs: 0 });
      else expect(await firstEnds()).toMatchObject({ state: "ended", oomKilled: true });
    }
  });

  it("a page of jobs with long argument lists stops before its byte budget, and the pages still hold every job", async () => {
    const manager = await open();
    const long = "x".repeat(100 * 1024); // the kernel takes at most 128 KiB per argument
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      ids.push((await runScript(manager, "true", { args: ["-c", "true", long, long, long] })).job.id);
    }
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = manager.listPage(alice, {}, { size: 100, token, maxBytes: 700 * 1024 });
      expect(page.jobs.length).toBeLessThanOrEqual(2);
      seen.push(...page.jobs.map((job) => job.id));
      token = page.nextPageToken;
      pages++;
    } while (token);
    expect(seen).toEqual(ids);
    expect(pages).toBe(3);
  });

  it("long argument lists live in their own file, not in the record held in memory, and come back whole", async () => {
    const manager = await open();
    const long = "y".repeat(100 * 1024);
    const { job, output } = await runScript(manager, 'printf "%s" "$1" | wc -c', {
      args: ["-c", 'printf "%s" "$1" | wc -c', "sh", long],
    });
    expect(output.trim()).toBe(String(100 * 1024));
    expect(job.args).toEqual(["-c", 'printf "%s" "$1" | wc -c', "sh", long]);
    const dir = join(temp?.stateDir ?? "", "jobs", job.id);
    const record = JSON.parse(await readFile(join(dir, "record.json"), "utf8"));
    expect(record.args).toEqual([]);
    expect(record.argsFile.bytes).toBeGreaterThan(100 * 1024);
    const reopened = (await temp?.reopen()) as JobManager;
    expect(reopened.get(job.id, alice).args[3]).toBe(long);
  });

  it("tells subscribers of every change of state", async () => {
    const manager = await open();
    const seen: string[] = [];
    const unsubscribe = manager.subscribe((job, from) => seen.push(`${from}->${job.state}`));
    await runScript(manager, "true");
    unsubscribe();
    await runScript(manager, "true");
    expect(seen).toEqual(["starting->running", "running->ended"]);
  });
});
