import type { Limits } from "../limits.js";
import { parseKeyValues, readControl, writeControl } from "./cgroup-files.js";
import type { CurrentUsage, LimitController, ResourceUsage } from "./controller.js";

const CPU_PERIOD_US = 100_000;

/** Limits and accounting through the unified (cgroup v2) hierarchy. io.max throttles buffered writes too. */
export class V2Controller implements LimitController {
  constructor(private readonly dir: string) {}

  async apply(limits: Limits, disk: string | undefined): Promise<void> {
    if (limits.cpuMillicores !== undefined) {
      await writeControl(this.dir, "cpu.max", `${(limits.cpuMillicores * CPU_PERIOD_US) / 1000} ${CPU_PERIOD_US}`);
    }
    if (limits.memoryBytes !== undefined) {
      await writeControl(this.dir, "memory.max", String(limits.memoryBytes));
      if ((await readControl(this.dir, "memory.swap.max")) !== undefined) {
        await writeControl(this.dir, "memory.swap.max", "0");
      }
    }
    const io = [
      ["rbps", limits.ioReadBps],
      ["wbps", limits.ioWriteBps],
      ["riops", limits.ioReadIops],
      ["wiops", limits.ioWriteIops],
    ].filter(([, value]) => value !== undefined);
    if (disk && io.length > 0) {
      await writeControl(this.dir, "io.max", `${disk} ${io.map(([key, value]) => `${key}=${value}`).join(" ")}`);
    }
    if (limits.maxPids !== undefined) await writeControl(this.dir, "pids.max", String(limits.maxPids));
  }

  async usage(): Promise<ResourceUsage> {
    const [cpu, peak, io] = await Promise.all([
      readControl(this.dir, "cpu.stat"),
      readControl(this.dir, "memory.peak"),
      readControl(this.dir, "io.stat"),
    ]);
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

  async current(): Promise<CurrentUsage> {
    const [memory, pids] = await Promise.all([
      readControl(this.dir, "memory.current"),
      readControl(this.dir, "pids.current"),
    ]);
    return { memoryCurrentBytes: Number(memory ?? 0), pidsCurrent: Number(pids ?? 0) };
  }

  async oomKills(): Promise<number> {
    return parseKeyValues(await readControl(this.dir, "memory.events")).get("oom_kill") ?? 0;
  }
}
