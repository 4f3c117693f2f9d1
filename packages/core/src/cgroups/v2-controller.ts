import { join } from "node:path";
import type { Limits } from "../limits.js";
import { parseKeyValues, readControl, readControlFile, writeControlFiles } from "./cgroup-files.js";
import type { CgroupWrite, ControlReader, CurrentUsage, LimitController, ResourceUsage } from "./controller.js";

const CPU_PERIOD_US = 100_000;

/** What every job cgroup under one parent shares, found once when the parent is opened. */
export interface V2ParentFacts {
  /** The kernel accounts swap (memory.swap.max exists). */
  hasSwapMax: boolean;
}

/** Limits and accounting through the unified (cgroup v2) hierarchy. io.max throttles buffered writes too. */
export class V2Controller implements LimitController {
  constructor(
    private readonly dir: string,
    /** Set for a job's cgroup: what its parent settled once. */
    private readonly parent?: V2ParentFacts,
  ) {}

  async apply(limits: Limits, disk: string | undefined): Promise<void> {
    await writeControlFiles(await this.writes(limits, disk));
  }

  async writes(limits: Limits, disk: string | undefined): Promise<CgroupWrite[]> {
    const writes: CgroupWrite[] = [];
    const set = (file: string, value: string) => writes.push([join(this.dir, file), value]);
    if (limits.cpuMillicores !== undefined) {
      set("cpu.max", `${(limits.cpuMillicores * CPU_PERIOD_US) / 1000} ${CPU_PERIOD_US}`);
    }
    if (limits.memoryBytes !== undefined) {
      set("memory.max", String(limits.memoryBytes));
      const hasSwapMax = this.parent?.hasSwapMax ?? (await readControl(this.dir, "memory.swap.max")) !== undefined;
      if (hasSwapMax) set("memory.swap.max", "0");
    }
    const io = [
      ["rbps", limits.ioReadBps],
      ["wbps", limits.ioWriteBps],
      ["riops", limits.ioReadIops],
      ["wiops", limits.ioWriteIops],
    ].filter(([, value]) => value !== undefined);
    if (disk && io.length > 0) set("io.max", `${disk} ${io.map(([key, value]) => `${key}=${value}`).join(" ")}`);
    if (limits.maxPids !== undefined) set("pids.max", String(limits.maxPids));
    return writes;
  }

  async usage(): Promise<ResourceUsage> {
    return this.usageIn(readControlFile);
  }

  endFiles(): string[] {
    return ["cpu.stat", "memory.peak", "io.stat", "memory.events"].map((file) => join(this.dir, file));
  }

  usageIn(read: ControlReader): ResourceUsage {
    const cpu = read(join(this.dir, "cpu.stat"));
    const peak = read(join(this.dir, "memory.peak"));
    const io = read(join(this.dir, "io.stat"));
    let ioReadBytes = 0;
    let ioWriteBytes = 0;
    for (const line of (io ?? "").split("\n")) {
      for (const field of line.split(" ")) {
        const [key, value] = field.split("=");
        if (key === "rbytes") ioReadBytes += Number(value);
        if (key === "wbytes") ioWriteBytes += Number(value);
      }
    }
    return {
      cpuTimeMicros: parseKeyValues(cpu).get("usage_usec") ?? 0,
      memoryPeakBytes: Number(peak ?? 0),
      ioReadBytes,
      ioWriteBytes,
    };
  }

  oomKillsIn(read: ControlReader): number {
    return parseKeyValues(read(join(this.dir, "memory.events"))).get("oom_kill") ?? 0;
  }

  async current(): Promise<CurrentUsage> {
    const [memory, pids] = await Promise.all([
      readControl(this.dir, "memory.current"),
      readControl(this.dir, "pids.current"),
    ]);
    return { memoryCurrentBytes: Number(memory ?? 0), pidsCurrent: Number(pids ?? 0) };
  }

  async oomKills(): Promise<number> {
    return this.oomKillsIn(readControlFile);
  }
}
