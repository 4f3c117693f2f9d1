import { mkdtemp, readdir, readFile, readlink, rm } from "node:fs/promises";
import { join } from "node:path";
import { testUidRange } from "@jobworker/testkit/uid-range";
import type { Job, StartRequest } from "../job.js";
import { JobManager } from "../job-manager.js";
import type { JobManagerOptions } from "../options.js";

let counter = 0;

/** A JobManager on a fresh state dir and its own cgroup parent, for one test file. */
export interface TempManager {
  manager: JobManager;
  stateDir: string;
  cgroupParent: string;
  /** Warnings the manager has given so far. */
  warnings: string[];
  /** Opens a second manager on the same state dir (a restart). */
  reopen(): Promise<JobManager>;
  /** Cleans every job, closes, removes the cgroup parent and the state dir. */
  dispose(): Promise<void>;
}

/**
 * Where tests keep state dirs and data: /var/tmp by default (not /tmp: every
 * job gets its own /tmp, which would hide a state dir there). The cgroup v2 VM
 * points it at its virtio-blk disk, so IO limits meet a real block device.
 */
export const TEST_TMPDIR = process.env.JOBWORKER_TEST_TMPDIR ?? "/var/tmp";

/** A fresh directory under TEST_TMPDIR. */
export function testTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(TEST_TMPDIR, prefix));
}

/**
 * A manager on a fresh state dir under TEST_TMPDIR, with its own cgroup parent.
 */
export async function tempManager(options: Partial<JobManagerOptions> = {}): Promise<TempManager> {
  const stateDir = await testTempDir("jobworker-test-");
  const cgroupParent = `jobworker-test-${process.pid}-${counter++}`;
  const warnings: string[] = [];
  const uidRange = testUidRange();
  const open = () =>
    JobManager.open({ stateDir, cgroupParent, uidRange, defaultGraceMs: 2000, ...options }, (message) =>
      warnings.push(message),
    );
  let manager = await open();
  return {
    get manager() {
      return manager;
    },
    stateDir,
    cgroupParent,
    warnings,
    async reopen() {
      await manager.close();
      manager = await open();
      return manager;
    },
    async dispose() {
      await manager.clean({ allOwners: true });
      await manager.close();
      await manager.removeCgroupParent();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * What this process holds open, for leak checks: file descriptors (except the
 * inotify instance libuv creates once, on first use, and keeps) and inotify
 * watches (one per watched job; they all share that one instance).
 */
export async function openResources(): Promise<{ fds: number; watches: number }> {
  let fds = 0;
  let watches = 0;
  for (const fd of await readdir("/proc/self/fd")) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => "");
    if (target !== "anon_inode:inotify") {
      fds++;
      continue;
    }
    const info = await readFile(`/proc/self/fdinfo/${fd}`, "utf8").catch(() => "");
    watches += info.split("\n").filter((line) => line.startsWith("inotify wd:")).length;
  }
  return { fds, watches };
}

/** Runs a shell script as one of `owner`'s jobs and returns how it ended and what it printed. */
export async function runScript(
  manager: JobManager,
  script: string,
  options: Partial<StartRequest> = {},
  owner = "alice",
): Promise<{ job: Job; output: string }> {
  const job = await manager.start(owner, { command: "/bin/sh", args: ["-c", script], ...options });
  const ended = await manager.wait(job.id, { owner });
  const output = (await collect(manager.openOutput(job.id, { owner }))).toString();
  return { job: ended, output };
}

/** Collects a job's whole output. */
export async function collect(chunks: AsyncIterable<{ data: Uint8Array }>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk.data);
  return Buffer.concat(parts);
}

/** Skips a suite with a clear reason when not root: namespaces, cgroups and uid changes need it. */
export const needsRoot = process.getuid?.() !== 0;
