import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";

/** /proc/stat's unit on Linux, whatever the kernel's HZ. */
const USER_HZ = 100;

/**
 * Waits (at most `limitMs`) until the disk has written back what earlier
 * benchmarks wrote and the machine has been at least 90 % idle for two
 * one-second samples in a row. Tearing down hundreds of jobs leaves the kernel
 * freeing network namespaces and cgroups for a while, and a benchmark started
 * meanwhile would measure that instead. Writeback counts as idle (iowait), yet
 * it competes with what runs meanwhile (the cli and output benchmarks write
 * gigabytes), so it is waited for first. Returns the seconds waited.
 */
export async function waitForQuietMachine(limitMs = 60_000): Promise<number> {
  const started = performance.now();
  await promisify(execFile)("sync");
  let quietSamples = 0;
  let before = await cpuTimes();
  while (quietSamples < 2 && performance.now() - started < limitMs) {
    await sleep(1000);
    const after = await cpuTimes();
    const total = after.total - before.total;
    quietSamples = total > 0 && (after.idle - before.idle) / total >= 0.9 ? quietSamples + 1 : 0;
    before = after;
  }
  return (performance.now() - started) / 1000;
}

/** The machine's CPU time since boot in milliseconds, all CPUs summed: idle (with iowait) and total. */
export async function cpuTimes(): Promise<{ idle: number; total: number }> {
  const ticks =
    (await readFile("/proc/stat", "utf8")).split("\n")[0]?.trim().split(/\s+/).slice(1, 9).map(Number) ?? [];
  const ms = (value: number) => (value * 1000) / USER_HZ;
  return { idle: ms((ticks[3] ?? 0) + (ticks[4] ?? 0)), total: ms(ticks.reduce((a, b) => a + b, 0)) };
}

/**
 * CPU time (user and system, in milliseconds) that process `pid` has used
 * itself, from /proc/PID/stat: not its children's, so the server's own work only.
 */
export async function processCpuMs(pid: number): Promise<{ user: number; system: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: (Number(fields[11]) * 1000) / USER_HZ, system: (Number(fields[12]) * 1000) / USER_HZ };
}
