import { readFile } from "node:fs/promises";

/** /proc/PID/stat's unit on Linux, whatever the kernel's HZ. */
const USER_HZ = 100;

/** CPU time (user + system) a process has used so far, in milliseconds, from /proc/PID/stat. */
export async function cpuMsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // The command name may hold spaces and parentheses: the fields start after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name and state.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
}

/** A process's proportional set size in bytes (smaps_rollup): what it holds, shared pages split among their users. */
export async function pssOf(pid: number): Promise<number> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, "utf8");
  const kib = /^Pss:\s+(\d+) kB/m.exec(rollup)?.[1];
  if (kib === undefined) throw new Error(`no Pss line in /proc/${pid}/smaps_rollup`);
  return Number(kib) * 1024;
}

/** A process's PSS split into anonymous memory (what it allocated) and file pages (its binary and libraries, in the page cache). */
export async function pssSplitOf(pid: number): Promise<{ pss: number; anon: number; file: number }> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, "utf8");
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(rollup)?.[1] ?? Number.NaN) * 1024;
  return { pss: field("Pss"), anon: field("Pss_Anon"), file: field("Pss_File") };
}

/** A process's resident set size in bytes (VmRSS of /proc/PID/status): cheap enough to sample often. */
export async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmRSS line in /proc/${pid}/status`);
  return Number(kib) * 1024;
}

/**
 * Samples `pid`'s RSS every `everyMs` until `stop` is called; `stop` resolves
 * with the highest sample. For memory held during a benchmark, not after it.
 */
export function samplePeakRss(pid: number, everyMs = 20): () => Promise<number> {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await rssOf(pid));
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return peak;
  };
}

export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
