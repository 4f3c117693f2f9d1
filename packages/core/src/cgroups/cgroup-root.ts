import { mkdir, readdir, rmdir } from "node:fs/promises";
import { join } from "node:path";
import type { Limits } from "../limits.js";
import { readControl, writeControl } from "./cgroup-files.js";
import type { CgroupWrite, LimitController } from "./controller.js";
import type { JobsCeiling } from "./host-headroom.js";
import { JobCgroup } from "./job-cgroup.js";
import { type CgroupLayout, detectLayout, type V1ControllerName } from "./layout.js";
import { settleV1Parent, V1Controller, type V1ParentFacts } from "./v1-controller.js";
import { V2Controller, type V2ParentFacts } from "./v2-controller.js";

/** Controllers a v2 parent enables for its job cgroups. */
const V2_CONTROLLERS = ["cpu", "memory", "io", "pids"];

/**
 * The parent cgroup that holds one child cgroup per job, on whichever layout
 * the host has. `parent` is a path relative to each hierarchy's root, for
 * example "jobworker" or "system.slice/jobworker.service/jobs".
 */
export class CgroupRoot {
  private constructor(
    readonly layout: CgroupLayout,
    private readonly unifiedParent: string | undefined,
    private readonly v1Parents: ReadonlyMap<V1ControllerName, string>,
    private readonly v1Facts: V1ParentFacts,
    private readonly v2Facts: V2ParentFacts | undefined,
  ) {}

  /**
   * Creates the parent cgroups (and on v2 enables the controllers down to
   * them). With a ceiling, the parent holds every job together under it.
   */
  static async open(parent: string, layout?: CgroupLayout, ceiling?: JobsCeiling): Promise<CgroupRoot> {
    if (parent.split("/").some((part) => part === ".." || part === ".")) {
      throw new Error(`cgroup parent ${JSON.stringify(parent)} must not contain "." or ".."`);
    }
    const detected = layout ?? (await detectLayout());
    const unifiedParent = detected.unifiedRoot ? join(detected.unifiedRoot, parent) : undefined;
    if (detected.unifiedRoot && unifiedParent) {
      await mkdir(unifiedParent, { recursive: true });
      if (detected.kind === "v2") await enableControllers(detected.unifiedRoot, parent);
    }
    // Controllers co-mounted in one hierarchy (cpu,cpuacct) share one directory.
    const v1Parents = new Map([...detected.v1Roots].map(([controller, root]) => [controller, join(root, parent)]));
    for (const dir of new Set(v1Parents.values())) await mkdir(dir, { recursive: true });
    const v1Facts = await settleV1Parent(detected.kind === "v2" ? undefined : v1Parents.get("memory"));
    const v2Facts =
      detected.kind === "v2" && unifiedParent
        ? { hasSwapMax: (await readControl(unifiedParent, "memory.swap.max")) !== undefined }
        : undefined;
    const root = new CgroupRoot(detected, unifiedParent, v1Parents, v1Facts, v2Facts);
    if (ceiling) await root.parentController().apply(ceiling, undefined);
    return root;
  }

  /** The limits of the parent itself: the ceiling over every job together. */
  private parentController(): LimitController {
    return this.layout.kind === "v2" && this.unifiedParent
      ? new V2Controller(this.unifiedParent)
      : new V1Controller(this.v1Parents);
  }

  /**
   * A new job's cgroup, not created yet, and the writes that set its limits:
   * the job's launcher creates its directories and makes the writes (launch.ts).
   */
  async planned(
    jobId: string,
    limits: Limits,
    disk: string | undefined,
  ): Promise<{ cgroup: JobCgroup; writes: CgroupWrite[] }> {
    const cgroup = this.attach(jobId);
    return { cgroup, writes: await cgroup.limits.writes(limits, disk) };
  }

  /** The cgroup of a job, whether or not its directories exist. */
  attach(jobId: string): JobCgroup {
    const unifiedPath = this.unifiedParent ? join(this.unifiedParent, jobId) : undefined;
    const v1Dirs = new Map([...this.v1Parents].map(([controller, dir]) => [controller, join(dir, jobId)]));
    const controller =
      this.layout.kind === "v2" && unifiedPath
        ? new V2Controller(unifiedPath, this.v2Facts)
        : new V1Controller(v1Dirs, this.v1Facts);
    return new JobCgroup(jobId, unifiedPath, [...new Set(v1Dirs.values())], controller);
  }

  /** Ids of the job cgroups that exist under the parent, in any hierarchy. */
  async list(): Promise<string[]> {
    const ids = new Set<string>();
    for (const dir of this.parentDirs()) {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) ids.add(entry.name);
      }
    }
    return [...ids];
  }

  /** Removes the (empty) parent cgroups; for embedders and tests that own their parent. */
  async removeParent(): Promise<void> {
    for (const dir of this.parentDirs()) {
      await rmdir(dir).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "ENOENT") throw error;
      });
    }
  }

  private parentDirs(): string[] {
    return [...new Set(this.v1Parents.values()), ...(this.unifiedParent ? [this.unifiedParent] : [])];
  }
}

/** Enables the job controllers in every cgroup from the root down to the parent (no-internal-process rule aside). */
async function enableControllers(root: string, parent: string): Promise<void> {
  const levels = parent.split("/").filter(Boolean);
  for (let depth = 0; depth <= levels.length; depth++) {
    const dir = join(root, ...levels.slice(0, depth));
    const available = new Set((await readControl(dir, "cgroup.controllers"))?.trim().split(" "));
    const wanted = V2_CONTROLLERS.filter((name) => available.has(name));
    if (wanted.length > 0) await writeControl(dir, "cgroup.subtree_control", wanted.map((n) => `+${n}`).join(" "));
  }
}
