import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { chmod, mkdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sendControl } from "@jobworker/helper";
import { cgroupDirs, fileAppears, processesOfUid } from "@jobworker/testkit/host";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectLayout } from "./cgroups/layout.js";
import { isJobError } from "./errors.js";
import type { JobManager } from "./job-manager.js";
import { DEFAULT_PATH } from "./options.js";
import {
  collect,
  needsRoot,
  openResources,
  type TempManager,
  tempManager,
  testTempDir,
} from "./testing/temp-manager.js";
import { waitForOutput } from "./testing/wait-for-output.js";

const alice = { owner: "alice" };

describe.skipIf(needsRoot)("JobManager lifecycle (needs root: namespaces, cgroups, uid switching)", () => {
  let temp: TempManager;
  let manager: JobManager;
  let before: { fds: number; watches: number };

  /** A host directory exposed read-only to jobs, for programs the tests write. */
  let programs: string;

  beforeAll(async () => {
    before = await openResources();
    programs = await testTempDir("jobworker-programs-");
    await chmod(programs, 0o755);
    temp = await tempManager({
      maxConcurrentJobs: 8,
      outputCapBytes: 1024 * 1024,
      exposedPaths: [{ path: programs, writable: false }],
    });
    manager = temp.manager;
  });

  afterAll(async () => {
    await temp.dispose();
    await rm(programs, { recursive: true, force: true });
    expect(await openResources()).toEqual(before);
  });

  it("runs a command and reports its exit code and output", async () => {
    const job = await manager.start("alice", { command: "sh", args: ["-c", "echo out; echo err >&2; exit 3"] });
    expect(job.state).toBe("running");
    // As execvp would: the first directory of the job's PATH that holds an executable sh, wherever this host keeps it.
    expect(job.executable).toBe(firstInPath("sh"));
    const ended = await manager.wait(job.id, alice);
    expect(ended).toMatchObject({ state: "ended", endReason: "exited", exitCode: 3, oomKilled: false, outputBytes: 8 });
    expect(ended.signal).toBeUndefined();
    expect(ended.usage?.cpuTimeMicros).toBeGreaterThan(0);
    expect((await collect(manager.openOutput(job.id, alice))).toString()).toBe("out\nerr\n");
  });

  it("passes args and env unchanged, without a shell, and none of the server's env", async () => {
    process.env.JOBWORKER_SECRET_FOR_TEST = "leak";
    const job = await manager.start("alice", {
      command: "/usr/bin/env",
      env: { GREETING: "hello world; $(not expanded)" },
    });
    await manager.wait(job.id, alice);
    const env = (await collect(manager.openOutput(job.id, alice))).toString();
    expect(env).toContain("GREETING=hello world; $(not expanded)\n");
    expect(env).toContain("PATH=/usr/local/sbin:");
    expect(env).not.toContain("JOBWORKER_SECRET_FOR_TEST");
    delete process.env.JOBWORKER_SECRET_FOR_TEST;
  });

  it("reports the signal that killed the main process, not 128+n", async () => {
    const job = await manager.start("alice", { command: "sh", args: ["-c", "kill -SEGV $$"] });
    expect(await manager.wait(job.id, alice)).toMatchObject({ endReason: "signaled", signal: 11 });
    expect((await manager.wait(job.id, alice)).exitCode).toBeUndefined();
  });

  it.each([
    [
      "a missing executable",
      "/usr/bin/jobworker-nonexistent",
      /cannot execute \/usr\/bin\/jobworker-nonexistent: no such file/,
    ],
    ["a name not in PATH", "no-such-command-anywhere", /not found in PATH/],
    ["a relative path", "./script.sh", /absolute path or a bare name/],
    ["a file without execute permission", "/etc/passwd", /permission denied/],
  ])("fails to start %s synchronously, leaving no job behind", async (_what, command, message) => {
    const before = manager.list(alice).length;
    const error = await manager.start("alice", { command }).catch((e: unknown) => e);
    expect(isJobError(error) && error.code).toBe("invalid_argument");
    expect((error as Error).message).toMatch(message);
    expect(manager.list(alice)).toHaveLength(before);
  });

  it("fails to start a file in no executable format with ENOEXEC", async () => {
    const path = join(programs, "garbage");
    await writeFile(path, Buffer.from([0, 1, 2, 3, 4, 5, 6, 7]), { mode: 0o755 });
    await expect(manager.start("alice", { command: path })).rejects.toThrow(/not an executable format/);
  });

  it("refuses a command outside the job's view, saying so", async () => {
    await expect(manager.start("alice", { command: "/srv/jobworker/program" })).rejects.toMatchObject({
      code: "invalid_argument",
      message: expect.stringMatching(/outside the job's view/),
    });
  });

  it("a job that ignores SIGTERM ends by SIGKILL after the grace period", async () => {
    const job = await manager.start("alice", {
      command: "sh",
      args: ["-c", "trap '' TERM; echo ready; sleep 1000 & wait; sleep 1000"],
    });
    await waitForOutput(manager, job.id, "ready");
    const started = performance.now();
    const stopped = await manager.stop(job.id, alice, { graceMs: 300 });
    expect(stopped).toMatchObject({ state: "ended", endReason: "stopped", signal: 9 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
  });

  it("a job that handles SIGTERM exits with its own code when stopped", async () => {
    const job = await manager.start("alice", {
      command: "sh",
      args: ["-c", "trap 'exit 42' TERM; echo ready; sleep 1000 & wait"],
    });
    await waitForOutput(manager, job.id, "ready");
    expect(await manager.stop(job.id, alice)).toMatchObject({ endReason: "stopped", exitCode: 42 });
  });

  it("stopping a job that forks children leaves no process and no cgroup behind", async () => {
    const job = await manager.start("alice", {
      command: "sh",
      args: ["-c", "sleep 1000 & sleep 1000 & echo ready; wait"],
    });
    await waitForOutput(manager, job.id, "ready");
    // The checks below can fail: while it runs, the job has processes and cgroups.
    expect((await processesOfUid(job.uid)).length).toBeGreaterThanOrEqual(3);
    expect((await cgroupDirs(temp.cgroupParent)).some((dir) => dir.endsWith(job.id))).toBe(true);
    await manager.stop(job.id, alice, { graceMs: 0 });
    expect(await processesOfUid(job.uid)).toEqual([]);
    expect(await cgroupDirs(temp.cgroupParent)).toEqual([]);
  });

  it("concurrent stops of one job all return the same final state", async () => {
    const job = await manager.start("alice", { command: "sleep", args: ["1000"] });
    const results = await Promise.all([1, 2, 3].map(() => manager.stop(job.id, alice)));
    for (const result of results) expect(result).toMatchObject({ state: "ended", endReason: "stopped", signal: 15 });
  });

  it("a second stop of an ended job fails with failed_precondition, without waiting", async () => {
    const job = await manager.start("alice", { command: "true" });
    await manager.wait(job.id, alice);
    await expect(manager.stop(job.id, alice)).rejects.toMatchObject({ code: "failed_precondition" });
  });

  it("a job past its max runtime is stopped as timed_out", async () => {
    const job = await manager.start("alice", { command: "sleep", args: ["1000"], maxRuntimeMs: 200 });
    expect(await manager.wait(job.id, alice)).toMatchObject({ endReason: "timed_out", signal: 15 });
  });

  it("a job whose output passes the cap is stopped as output_limit", async () => {
    const job = await manager.start("alice", {
      command: "sh",
      args: ["-c", "while :; do echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; done"],
    });
    const ended = await manager.wait(job.id, alice);
    expect(ended.endReason).toBe("output_limit");
    expect(ended.outputBytes).toBeGreaterThan(1024 * 1024);
  });

  it("another owner's job is not_found, exactly like a missing one", async () => {
    const job = await manager.start("alice", { command: "true" });
    const bob = { owner: "bob" };
    for (const call of [
      () => manager.get(job.id, bob),
      () => manager.openOutput(job.id, bob),
      () => manager.get("00000000-0000-4000-8000-000000000000", bob),
    ]) {
      expect(call).toThrow(expect.objectContaining({ code: "not_found" }));
    }
    await expect(manager.stop(job.id, bob)).rejects.toMatchObject({ code: "not_found" });
    await expect(manager.wait(job.id, bob)).rejects.toMatchObject({ code: "not_found" });
    await expect(manager.delete(job.id, bob)).rejects.toMatchObject({ code: "not_found" });
    expect(manager.list(bob).map((j) => j.id)).not.toContain(job.id);
    expect(manager.list({ allOwners: true }).map((j) => j.id)).toContain(job.id);
  });

  it("refuses limits above the maximum or below the minimum, never clamping", async () => {
    await expect(manager.start("alice", { command: "true", limits: { maxPids: 10_000_000 } })).rejects.toThrow(
      /above the server's maximum/,
    );
    await expect(manager.start("alice", { command: "true", limits: { memoryBytes: 1 } })).rejects.toMatchObject({
      code: "invalid_argument",
    });
    await expect(manager.start("alice", { command: "true", limits: { cpuMillicores: -5 } })).rejects.toMatchObject({
      code: "invalid_argument",
    });
  });

  it("refuses more concurrent jobs than configured with resource_exhausted", async () => {
    await manager.clean(alice);
    const running = await Promise.all(
      Array.from({ length: 8 }, () => manager.start("alice", { command: "sleep", args: ["1000"] })),
    );
    await expect(manager.start("alice", { command: "true" })).rejects.toMatchObject({ code: "resource_exhausted" });
    expect(await manager.clean(alice)).toBe(8);
    expect(manager.list(alice)).toEqual([]);
    for (const job of running) expect(await processesOfUid(job.uid)).toEqual([]);
  });

  it("delete refuses a running job and removes an ended one with its files", async () => {
    const job = await manager.start("alice", { command: "sleep", args: ["1000"] });
    await expect(manager.delete(job.id, alice)).rejects.toMatchObject({ code: "failed_precondition" });
    await manager.stop(job.id, alice, { graceMs: 0 });
    await manager.delete(job.id, alice);
    expect(() => manager.get(job.id, alice)).toThrow(expect.objectContaining({ code: "not_found" }));
    await expect(stat(join(temp.stateDir, "jobs", job.id))).rejects.toThrow(/ENOENT/);
  });

  it("a restarted manager re-adopts a running job and reports its real exit code", async () => {
    const job = await manager.start("alice", {
      command: "sh",
      args: ["-c", "trap 'exit 42' TERM; echo ready; sleep 1000 & wait"],
    });
    await waitForOutput(manager, job.id, "ready");
    manager = await temp.reopen();
    // When it started and under which launcher come back too, though the start was recorded once, as starting.
    expect(manager.get(job.id, alice)).toMatchObject({
      state: "running",
      startedAt: expect.closeTo(job.startedAt ?? 0, -3),
      launcher: { pid: job.launcher?.pid },
    });
    expect(await manager.stop(job.id, alice)).toMatchObject({ state: "ended", endReason: "stopped", exitCode: 42 });
  });

  it("a job that ended while no manager ran reports its exit status from the launcher's record", async () => {
    const job = await manager.start("alice", {
      command: "sh",
      args: ["-c", "trap 'exit 7' TERM; echo ready; sleep 1000 & wait"],
    });
    await waitForOutput(manager, job.id, "ready");
    await manager.close();
    const jobDir = join(temp.stateDir, "jobs", job.id);
    const exitRecord = fileAppears(jobDir, "exit.json");
    expect(await sendControl(jobDir, "term")).toBe(true);
    await exitRecord;
    manager = await temp.reopen();
    const ended = await manager.wait(job.id, alice);
    expect(ended).toMatchObject({ state: "ended", endReason: "exited", exitCode: 7 });
    expect(ended.endDetail).toBeUndefined();
    expect(ended.startedAt).toBeCloseTo(job.startedAt ?? 0, -3);
    expect((await collect(manager.openOutput(job.id, alice))).toString()).toBe("ready\n");
  });
});

function firstInPath(name: string): string | undefined {
  return DEFAULT_PATH.split(":")
    .map((dir) => join(dir, name))
    .find((path) => {
      try {
        accessSync(path, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

describe.skipIf(needsRoot)("JobManager start-up after a crash (needs root: cgroups)", () => {
  it("kills and removes a job cgroup that no record accounts for", async () => {
    const temp = await tempManager();
    // What a crash mid-start can leave: a job cgroup with a live process and no record.
    const sleeper = spawn("sleep", ["1000"], { stdio: "ignore" });
    const exited = new Promise((resolve) => sleeper.once("exit", (_code, signal) => resolve(signal)));
    try {
      await temp.manager.close();
      const orphan = "0b9e2c4e-1f7a-4d38-9a55-1c1f3f8f0a11";
      const { unifiedRoot = "" } = await detectLayout();
      const unified = join(unifiedRoot, temp.cgroupParent, orphan);
      await mkdir(unified);
      await writeFile(join(unified, "cgroup.procs"), String(sleeper.pid));
      // Reopened with the test's own uid range and claims, as a restarted server would be.
      await temp.reopen();
      expect(await exited).toBe("SIGKILL");
      expect(await cgroupDirs(temp.cgroupParent)).toEqual([]);
      expect(temp.warnings).toContain(`removed cgroup ${orphan}, left behind by an earlier run`);
    } finally {
      // A failure above must not leave the sleeper, nor its cgroup busy for dispose.
      sleeper.kill("SIGKILL");
      await exited;
      await temp.dispose();
    }
  });
});
