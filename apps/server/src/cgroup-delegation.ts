import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { detectLayout } from "@jobworker/core";

/** The value of --cgroup-parent that asks for the service's own delegated cgroup (systemd Delegate=yes). */
export const DELEGATED = "delegated";

/**
 * Resolves --cgroup-parent. "delegated" means: this process runs in a cgroup
 * systemd delegated to it (Delegate=yes). To respect the no-internal-process
 * rule and systemd's single-writer rule, the server moves itself into
 * `<own>/supervisor`, and jobs go under `<own>/jobs`.
 */
export async function resolveCgroupParent(parent: string): Promise<string> {
  if (parent !== DELEGATED) return parent;
  const own = (await readFile("/proc/self/cgroup", "utf8"))
    .split("\n")
    .find((line) => line.startsWith("0::"))
    ?.slice(3)
    .replace(/\/supervisor$/, "");
  const { unifiedRoot } = await detectLayout();
  if (!own || own === "/" || !unifiedRoot) {
    throw new Error("--cgroup-parent delegated needs a delegated cgroup: run under systemd with Delegate=yes");
  }
  const supervisor = join(unifiedRoot, own, "supervisor");
  await mkdir(supervisor, { recursive: true });
  await writeFile(join(supervisor, "cgroup.procs"), String(process.pid));
  return join(own, "jobs").replace(/^\//, "");
}
