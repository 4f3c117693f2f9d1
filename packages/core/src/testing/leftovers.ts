import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";

/** Pids of live processes owned by `uid`, from /proc. */
export async function processesOfUid(uid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const info = await stat(`/proc/${entry}`).catch(() => undefined);
    if (info?.uid === uid) pids.push(Number(entry));
  }
  return pids;
}

/** Job cgroups left under a parent, in every hierarchy. */
export async function cgroupDirs(parent: string): Promise<string[]> {
  const dirs: string[] = [];
  // "" is the root itself (a pure v2 host); the others are v1 and hybrid hierarchies.
  for (const hierarchy of ["", ...(await readdir("/sys/fs/cgroup"))]) {
    const entries = await readdir(join("/sys/fs/cgroup", hierarchy, parent), { withFileTypes: true }).catch(() => []);
    dirs.push(...entries.filter((entry) => entry.isDirectory()).map((entry) => join(hierarchy, parent, entry.name)));
  }
  return dirs;
}
