import { join } from "node:path";
import type { Limits } from "../limits.js";
import { parseKeyValues, readControl, readControlFile, writeControl, writeControlFiles } from "./cgroup-files.js";
import type { CgroupWrite, ControlReader, CurrentUsage, LimitController, ResourceUsage } from "./controller.js";
import type { V1ControllerName } from "./layout.js";

const CFS_PERIOD_US = 100_000;

/**
 * Limits and accounting through cgroup v1 controllers.
 * Note: blkio.throttle limits only direct IO on v1; buffered writeback is not
 * attributed to the job's cgroup, so buffered writes are not throttled.
 */
export class V1Controller implements LimitController {
  constructor(
    private readonly dirs: ReadonlyMap<V1ControllerName, string>,
    /** Set for a job's new cgroup: what its parent settled once, so that each start does not repeat it. */
    private readonly parent?: V1ParentFacts,
  ) {}

  async apply(limits: Limits, disk: string | undefined): Promise<void> {
    await writeControlFiles(await this.writes(limits, disk));
  }

  async writes(limits: Limits, disk: string | undefined): Promise<CgroupWrite[]> {
    const writes: CgroupWrite[] = [];
    const set = (controller: V1ControllerName, file: string, value: string) => {
      const dir = this.dirs.get(controller);
      if (dir) writes.push([join(dir, file), value]);
    };
    if (limits.cpuMillicores !== undefined) {
      // A new cgroup has the kernel's default period (default_cfs_period(): 100 ms), which is ours.
      if (!this.parent) set("cpu", "cpu.cfs_period_us", String(CFS_PERIOD_US));
      set("cpu", "cpu.cfs_quota_us", String((limits.cpuMillicores * CFS_PERIOD_US) / 1000));
    }
    const memory = this.dirs.get("memory");
    if (memory && limits.memoryBytes !== undefined) {
      set("memory", "memory.limit_in_bytes", String(limits.memoryBytes));
      // memsw (memory + swap) exists only with swap accounting; equal to the limit means no swap.
      const hasMemsw =
        this.parent?.hasMemsw ?? (await readControl(memory, "memory.memsw.limit_in_bytes")) !== undefined;
      if (hasMemsw) set("memory", "memory.memsw.limit_in_bytes", String(limits.memoryBytes));
      // A new cgroup takes its parent's swappiness.
      if (!this.parent?.swappinessZero) set("memory", "memory.swappiness", "0");
    }
    if (disk) {
      const throttles: [string, number | undefined][] = [
        ["blkio.throttle.read_bps_device", limits.ioReadBps],
        ["blkio.throttle.write_bps_device", limits.ioWriteBps],
        ["blkio.throttle.read_iops_device", limits.ioReadIops],
        ["blkio.throttle.write_iops_device", limits.ioWriteIops],
      ];
      for (const [file, value] of throttles) if (value !== undefined) set("blkio", file, `${disk} ${value}`);
    }
    if (limits.maxPids !== undefined) set("pids", "pids.max", String(limits.maxPids));
    return writes;
  }

  async usage(): Promise<ResourceUsage> {
    return this.usageIn(readControlFile);
  }

  endFiles(): string[] {
    return [
      this.path("cpuacct", "cpuacct.usage"),
      this.path("memory", "memory.max_usage_in_bytes"),
      this.path("blkio", "blkio.throttle.io_service_bytes"),
      this.path("memory", "memory.oom_control"),
    ].filter((file) => file !== undefined);
  }

  usageIn(read: ControlReader): ResourceUsage {
    const at = (controller: V1ControllerName, file: string) => {
      const path = this.path(controller, file);
      return path === undefined ? undefined : read(path);
    };
    const cpuNanos = at("cpuacct", "cpuacct.usage");
    const peak = at("memory", "memory.max_usage_in_bytes");
    const io = at("blkio", "blkio.throttle.io_service_bytes");
    const total = (op: string) =>
      (io ?? "")
        .split("\n")
        .map((line) => line.split(" "))
        .filter((fields) => fields.length === 3 && fields[1] === op)
        .reduce((sum, fields) => sum + Number(fields[2]), 0);
    return {
      cpuTimeMicros: Math.round(Number(cpuNanos ?? 0) / 1000),
      memoryPeakBytes: Number(peak ?? 0),
      ioReadBytes: total("Read"),
      ioWriteBytes: total("Write"),
    };
  }

  oomKillsIn(read: ControlReader): number {
    const path = this.path("memory", "memory.oom_control");
    return parseKeyValues(path === undefined ? undefined : read(path)).get("oom_kill") ?? 0;
  }

  async current(): Promise<CurrentUsage> {
    const [memory, pids] = await Promise.all([
      this.read("memory", "memory.usage_in_bytes"),
      this.read("pids", "pids.current"),
    ]);
    return { memoryCurrentBytes: Number(memory ?? 0), pidsCurrent: Number(pids ?? 0) };
  }

  async oomKills(): Promise<number> {
    return this.oomKillsIn(readControlFile);
  }

  private async read(controller: V1ControllerName, file: string): Promise<string | undefined> {
    const dir = this.dirs.get(controller);
    return dir ? readControl(dir, file) : undefined;
  }

  private path(controller: V1ControllerName, file: string): string | undefined {
    const dir = this.dirs.get(controller);
    return dir ? join(dir, file) : undefined;
  }
}

/** What every job cgroup under one parent shares, found (or set) once when the parent is opened. */
export interface V1ParentFacts {
  /** The kernel has swap accounting (memory.memsw.*). */
  hasMemsw: boolean;
  /** The parent's swappiness is 0, so each new job cgroup's is too. */
  swappinessZero: boolean;
}

/** Reads (and sets: swappiness 0) what job cgroups under `memoryParent` would otherwise each read and set. */
export async function settleV1Parent(memoryParent: string | undefined): Promise<V1ParentFacts> {
  if (!memoryParent) return { hasMemsw: false, swappinessZero: true };
  const hasMemsw = (await readControl(memoryParent, "memory.memsw.limit_in_bytes")) !== undefined;
  const swappinessZero = await writeControl(memoryParent, "memory.swappiness", "0").then(
    () => true,
    () => false, // each job's cgroup then sets its own
  );
  return { hasMemsw, swappinessZero };
}
