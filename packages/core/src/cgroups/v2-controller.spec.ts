import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CgroupRoot } from "./cgroup-root.js";
import { V2Controller } from "./v2-controller.js";

/** A fake cgroup2 filesystem: plain files where the kernel has control files. */
describe("cgroup v2 driver against a fake cgroupfs", () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "jobworker-fake-cgroupfs-"));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  async function fakeCgroup(path: string, files: Record<string, string>): Promise<string> {
    const dir = join(root, path);
    await mkdir(dir, { recursive: true });
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
    return dir;
  }

  it("writes cpu.max, memory.max with no swap, io.max on the whole disk, and pids.max", async () => {
    const dir = await fakeCgroup("job", { "memory.swap.max": "max\n" });
    await new V2Controller(dir).apply(
      { cpuMillicores: 250, memoryBytes: 64 * 2 ** 20, ioReadBps: 1000000, ioWriteIops: 50, maxPids: 32 },
      "254:0",
    );
    const read = (file: string) => readFile(join(dir, file), "utf8");
    expect(await read("cpu.max")).toBe("25000 100000");
    expect(await read("memory.max")).toBe(String(64 * 2 ** 20));
    expect(await read("memory.swap.max")).toBe("0");
    expect(await read("io.max")).toBe("254:0 rbps=1000000 wiops=50");
    expect(await read("pids.max")).toBe("32");
  });

  it("reads usage from cpu.stat, memory.peak and io.stat, what it holds now from memory.current and pids.current, and OOM kills from memory.events", async () => {
    const dir = await fakeCgroup("job", {
      "cpu.stat": "usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\n",
      "memory.peak": "7340032\n",
      "io.stat": "254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n8:0 rbytes=1 wbytes=2\n",
      "memory.events": "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n",
      "memory.current": "52428800\n",
      "pids.current": "3\n",
    });
    const controller = new V2Controller(dir);
    expect(await controller.usage()).toEqual({
      cpuTimeMicros: 123456,
      memoryPeakBytes: 7340032,
      ioReadBytes: 4097,
      ioWriteBytes: 8194,
    });
    expect(await controller.oomKills()).toBe(1);
    expect(await controller.current()).toEqual({ memoryCurrentBytes: 52428800, pidsCurrent: 3 });
  });

  it("enables cpu, memory, io and pids from the root down to the parent on a v2 host", async () => {
    await fakeCgroup("", {
      "cgroup.controllers": "cpuset cpu io memory hugetlb pids rdma misc\n",
      "cgroup.subtree_control": "",
    });
    await fakeCgroup("jobworker", { "cgroup.controllers": "cpu io memory pids\n", "cgroup.subtree_control": "" });
    const cgroups = await CgroupRoot.open("jobworker", { kind: "v2", unifiedRoot: root, v1Roots: new Map() });
    expect(await readFile(join(root, "cgroup.subtree_control"), "utf8")).toBe("+cpu +memory +io +pids");
    expect(await readFile(join(root, "jobworker", "cgroup.subtree_control"), "utf8")).toBe("+cpu +memory +io +pids");
    const job = cgroups.attach("0b9e2c4e-1f7a-4d38-9a55-1c1f3f8f0a11");
    expect(job.unifiedPath).toBe(join(root, "jobworker", "0b9e2c4e-1f7a-4d38-9a55-1c1f3f8f0a11"));
    expect(job.v1Paths).toEqual([]);
  });

  it("refuses a cgroup parent that climbs out of the hierarchy", async () => {
    await expect(CgroupRoot.open("../escape", { kind: "v2", unifiedRoot: root, v1Roots: new Map() })).rejects.toThrow(
      /must not contain/,
    );
  });
});
