import { type FSWatcher, rmdirSync, watch, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseKeyValues, readControl } from "./cgroup-files.js";
import type { LimitController } from "./controller.js";

/** One job's cgroup: its unified-hierarchy directory (when the host has one) and its v1 directories. */
export class JobCgroup {
  private emptied?: Promise<void>;

  constructor(
    readonly jobId: string,
    /** Directory in the cgroup2 hierarchy: membership, cgroup.kill, cgroup.events. */
    readonly unifiedPath: string | undefined,
    /** v1 directories, one per distinct controller mount. */
    readonly v1Paths: readonly string[],
    readonly limits: LimitController,
  ) {}

  /** Kills every process in the cgroup at once. False when the kernel has no cgroup.kill (pure v1). */
  async kill(): Promise<boolean> {
    if (!this.unifiedPath) return false;
    try {
      writeFileSync(join(this.unifiedPath, "cgroup.kill"), "1");
      return true;
    } catch (error) {
      // ENOENT: a kernel before 5.14 without cgroup.kill, or a cgroup already removed.
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw error;
    }
  }

  /** True while any process is in the cgroup. Unknown (false) without a unified hierarchy. */
  async populated(): Promise<boolean> {
    if (!this.unifiedPath) return false;
    const events = await readControl(this.unifiedPath, "cgroup.events");
    return parseKeyValues(events).get("populated") === 1;
  }

  /**
   * Resolves once the cgroup is empty, from cgroup.events notifications (no
   * polling). All callers share one watch, closed as soon as it resolves.
   * Without a unified hierarchy it resolves at once: there the launcher's exit,
   * which follows its PID namespace's teardown, is what proves the job gone.
   */
  waitEmpty(): Promise<void> {
    const path = this.unifiedPath;
    if (!path) return Promise.resolve();
    // Most often asked once the job has ended and its cgroup is empty already: one read, no watch.
    // Nothing can join a job's cgroup once it is empty (its launcher clones into it once), so empty stays empty.
    this.emptied ??= this.populated().then(
      (populated) => (populated ? watchUntilEmpty(path, () => this.populated()) : undefined),
      () => watchUntilEmpty(path, () => this.populated()),
    );
    return this.emptied;
  }

  /**
   * Removes the cgroup's directories once it is empty. Most often it is empty
   * already (the job has ended): the directories go at once, and only a busy
   * one (EBUSY) makes it wait for the cgroup to empty and try again.
   * `v1Removed`: the job's launcher removed the v1 directories (see launcher.c).
   */
  async remove({ v1Removed = false } = {}): Promise<void> {
    if (this.removeDirs(v1Removed)) return;
    await this.waitEmpty();
    if (!this.removeDirs(v1Removed)) throw new Error(`cgroup ${this.jobId} still has processes: EBUSY`);
  }

  /**
   * Removes the directories still there; false when one is busy (still has
   * processes). With `v1Removed` the job's launcher has removed the v1 ones.
   */
  private removeDirs(v1Removed: boolean): boolean {
    for (const dir of [...(v1Removed ? [] : this.v1Paths), ...(this.unifiedPath ? [this.unifiedPath] : [])]) {
      try {
        rmdirSync(dir); // cgroupfs: synchronous, see cgroup-files.ts
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EBUSY") return false;
        if (code !== "ENOENT") throw error;
      }
    }
    return true;
  }
}

function watchUntilEmpty(dir: string, populated: () => Promise<boolean>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let watcher: FSWatcher;
    try {
      watcher = watch(join(dir, "cgroup.events"));
    } catch (error) {
      // Already removed: nothing left to wait for.
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return resolve();
      return reject(error);
    }
    const check = () =>
      populated().then((stillPopulated) => {
        if (stillPopulated) return;
        watcher.close();
        resolve();
      }, reject);
    watcher.on("change", check);
    watcher.on("error", reject);
    // Checked after the watch is in place, so an event between the two cannot be missed.
    void check();
  });
}
