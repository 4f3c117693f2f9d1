import { watch } from "node:fs";
import { access, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * What the host shows of jobs, for leak checks: processes, cgroups, mounts.
 * No Connect in here, so core's own tests can use it.
 */

/**
 * Pids of live processes owned by `uid`. A zombie is not live: it has exited
 * and holds nothing but its pid until its parent reaps it (a job's init whose
 * launcher was killed is reaped by whatever reaper the host has, in its own time).
 */
export async function processesOfUid(uid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const info = await stat(`/proc/${entry}`).catch(() => undefined);
    if (info?.uid !== uid) continue;
    const status = await readFile(`/proc/${entry}/status`, "utf8").catch(() => "");
    if (/^State:\s+Z/m.test(status) || status === "") continue;
    pids.push(Number(entry));
  }
  return pids;
}

/**
 * Pids of the per-job jobworker-launcher processes (launchers and the inits they
 * fork); `{ services: true }` adds the launcher services, one per running server.
 */
export async function launcherPids({ services = false } = {}): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const [program, role] = (await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "")).split("\0");
    if (!program?.endsWith("jobworker-launcher")) continue;
    if (role !== "--serve" || services) pids.push(Number(entry));
  }
  return pids;
}

/** Job cgroups under `parent`, in every hierarchy ("" is the root of a pure v2 host). */
export async function cgroupDirs(parent: string): Promise<string[]> {
  const dirs: string[] = [];
  for (const hierarchy of ["", ...(await readdir("/sys/fs/cgroup"))]) {
    const entries = await readdir(join("/sys/fs/cgroup", hierarchy, parent), { withFileTypes: true }).catch(() => []);
    dirs.push(...entries.filter((entry) => entry.isDirectory()).map((entry) => join(hierarchy, parent, entry.name)));
  }
  return dirs;
}

/** Host mounts whose line mentions `text` (a job's mount leaking to the host would show here). */
export async function mountsMentioning(text: string): Promise<string[]> {
  return (await readFile("/proc/self/mountinfo", "utf8")).split("\n").filter((line) => line.includes(text));
}

/** Resolves once `name` exists in `dir`: an inotify watch first, then a check, so nothing is missed. */
export function fileAppears(dir: string, name: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dir);
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`${name} did not appear in ${dir} within ${timeoutMs} ms`));
    }, timeoutMs);
    const check = () =>
      access(join(dir, name)).then(
        () => {
          clearTimeout(timer);
          watcher.close();
          resolve();
        },
        () => {},
      );
    watcher.on("change", (_event, file) => {
      if (file === name) void check();
    });
    void check();
  });
}

/** Resolves once `name` no longer exists in `dir`: an inotify watch first, then a check. */
export function fileDisappears(dir: string, name: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dir);
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`${name} was still in ${dir} after ${timeoutMs} ms`));
    }, timeoutMs);
    const check = () =>
      access(join(dir, name)).then(
        () => {},
        () => {
          clearTimeout(timer);
          watcher.close();
          resolve();
        },
      );
    watcher.on("change", (_event, file) => {
      if (file === name) void check();
    });
    void check();
  });
}

/**
 * Writes a file inside a running job's own filesystem (its /work lives in its
 * mount namespace, not on the host): through /proc/<pid>/root of one of the
 * job's processes, found in its cgroup. Root only.
 */
export async function writeInJob(cgroupParent: string, jobId: string, path: string, data: string): Promise<void> {
  for (const hierarchy of ["unified", "", "pids", "memory"]) {
    const procs = await readFile(join("/sys/fs/cgroup", hierarchy, cgroupParent, jobId, "cgroup.procs"), "utf8").catch(
      () => "",
    );
    const pid = procs.split("\n").find(Boolean);
    if (pid) {
      await writeFile(join(`/proc/${pid}/root`, path), data);
      return;
    }
  }
  throw new Error(`job ${jobId} has no process under cgroup parent ${cgroupParent}`);
}
