import { readFile } from "node:fs/promises";

/** The v1 controllers jobworker uses for limits and accounting. */
export const V1_CONTROLLERS = ["cpu", "cpuacct", "memory", "blkio", "pids"] as const;
/** One of V1_CONTROLLERS. */
export type V1ControllerName = (typeof V1_CONTROLLERS)[number];

/**
 * Which cgroup hierarchies a host has:
 * - `v2`: one unified hierarchy holds every controller (most current hosts);
 * - `hybrid`: v1 holds the controllers, a controller-less cgroup2 gives
 *   membership, `cgroup.kill` and `cgroup.events` (systemd's hybrid mode);
 * - `v1`: no cgroup2 at all.
 */
export interface CgroupLayout {
  /** Which of the three layouts this is. */
  kind: "v2" | "hybrid" | "v1";
  /** Mount point of the cgroup2 hierarchy, when there is one. */
  unifiedRoot?: string;
  /** Mount point of each v1 controller jobworker uses. Empty on v2. */
  v1Roots: ReadonlyMap<V1ControllerName, string>;
}

/** Reads the layout from the text of /proc/self/mountinfo. */
export function parseLayout(mountinfo: string): CgroupLayout {
  let unifiedRoot: string | undefined;
  const v1Roots = new Map<V1ControllerName, string>();
  for (const line of mountinfo.split("\n")) {
    const [mountFields, fsFields] = line.split(" - ");
    if (!mountFields || !fsFields) continue;
    const mountPoint = unescapeMountPath(mountFields.split(" ")[4] ?? "");
    const [fsType, , superOptions = ""] = fsFields.split(" ");
    if (fsType === "cgroup2") unifiedRoot ??= mountPoint;
    if (fsType !== "cgroup") continue;
    const options = new Set(superOptions.split(","));
    for (const controller of V1_CONTROLLERS) {
      if (options.has(controller) && !v1Roots.has(controller)) v1Roots.set(controller, mountPoint);
    }
  }
  if (v1Roots.size === 0) {
    if (!unifiedRoot) throw new Error("no cgroup hierarchy is mounted (looked in /proc/self/mountinfo)");
    return { kind: "v2", unifiedRoot, v1Roots };
  }
  return unifiedRoot ? { kind: "hybrid", unifiedRoot, v1Roots } : { kind: "v1", v1Roots };
}

/** Detects this host's cgroup layout from /proc/self/mountinfo. */
export async function detectLayout(): Promise<CgroupLayout> {
  return parseLayout(await readFile("/proc/self/mountinfo", "utf8"));
}

// mountinfo escapes space, tab, newline and backslash as octal.
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}
