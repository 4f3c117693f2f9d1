import { watch } from "node:fs";
import { access, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";

/** Pids of live processes owned by `uid`. */
export async function processesOfUid(uid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const info = await stat(`/proc/${entry}`).catch(() => undefined);
    if (info?.uid === uid) pids.push(Number(entry));
  }
  return pids;
}

/** Pids of every jobworker-launcher process (outer launchers and inits). */
export async function launcherPids(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.split("\0")[0]?.endsWith("jobworker-launcher")) pids.push(Number(entry));
  }
  return pids;
}

/** Job cgroups under `parent`, in every hierarchy. */
export async function cgroupDirs(parent: string): Promise<string[]> {
  const dirs: string[] = [];
  for (const hierarchy of ["", ...(await readdir("/sys/fs/cgroup"))]) {
    const entries = await readdir(join("/sys/fs/cgroup", hierarchy, parent), { withFileTypes: true }).catch(() => []);
    dirs.push(...entries.filter((e) => e.isDirectory()).map((e) => join(hierarchy, parent, e.name)));
  }
  return dirs;
}

/** A job's internal record (the stress suite peeks at it to find the launcher to kill). */
export async function jobRecord(stateDir: string, id: string): Promise<{ uid: number; launcher?: { pid: number } }> {
  return JSON.parse(await readFile(join(stateDir, "jobs", id, "record.json"), "utf8"));
}

/** Resolves once `name` exists in `dir` (inotify, then a check, so nothing is missed). */
export function fileAppears(dir: string, name: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dir);
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`${name} did not appear in ${dir}`));
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
    watcher.on("change", (_event, file) => file === name && void check());
    void check();
  });
}

/** Host mounts whose line mentions `text` (a job mount leaking to the host would show here). */
export function mountsMentioning(text: string): Promise<string[]> {
  return readFile("/proc/self/mountinfo", "utf8").then((info) =>
    info.split("\n").filter((line) => line.includes(text)),
  );
}
