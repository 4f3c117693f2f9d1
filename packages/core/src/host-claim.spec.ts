import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { claimHost, clashOf } from "./host-claim.js";
import { processStartTime } from "./lifecycle/process-identity.js";

const base = { stateDir: "/var/lib/a", cgroupParent: "jobworker/a", uidRange: { first: 300_000, count: 1000 } };

describe("claims on the host", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp("/var/tmp/jobworker-claims-");
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("two managers clash on a state dir, a nested cgroup parent or overlapping uids, and nothing else", () => {
    const other = { stateDir: "/var/lib/b", cgroupParent: "jobworker/b", uidRange: { first: 301_000, count: 1000 } };
    expect(clashOf(base, other)).toBeUndefined();
    expect(clashOf(base, { ...other, stateDir: "/var/lib/a" })).toMatch(/state dir/);
    expect(clashOf(base, { ...other, cgroupParent: "jobworker" })).toMatch(/cgroup parent/);
    expect(clashOf(base, { ...other, cgroupParent: "jobworker/a/x" })).toMatch(/cgroup parent/);
    expect(clashOf(base, { ...other, uidRange: { first: 300_999, count: 10 } })).toMatch(/job uid range/);
  });

  it("refuses a claim a live process holds, naming it, and takes over one whose process is gone", async () => {
    const release = await claimHost(base, dir);
    await expect(claimHost({ ...base, stateDir: "/var/lib/c", cgroupParent: "other" }, dir)).rejects.toThrow(
      new RegExp(`job uid range .* pid ${process.pid} \\(state dir /var/lib/a\\)`),
    );
    release();
    expect(await readdir(dir)).toEqual([]);
    // A claim left by a process that has exited is stale.
    const child = spawn("true");
    const startTime = await processStartTime(child.pid ?? 0);
    await once(child, "exit");
    await writeFile(join(dir, "stale.json"), JSON.stringify({ ...base, pid: child.pid, startTime: startTime ?? "x" }));
    const again = await claimHost(base, dir);
    expect(await readdir(dir)).toHaveLength(1);
    again();
  });
});
