import { LaunchError, type LaunchedJob, type LauncherService } from "@jobworker/helper";
import { wholeDiskOf } from "../cgroups/block-device.js";
import type { CgroupRoot } from "../cgroups/cgroup-root.js";
import { resolveCommand } from "../command.js";
import { invalidArgument, JobError } from "../errors.js";
import type { StartRequest } from "../job.js";
import { hasIoLimits } from "../limits.js";
import type { ManagedJob } from "../managed-job.js";
import type { ResolvedOptions } from "../options.js";
import { inodesFor, outputLimitFor } from "../sandbox/disk-space.js";
import { isInJobView, JOB_WORK_DIR, SYSTEM_DIRS, workingDirectoryRefused } from "../sandbox/filesystem-view.js";
import type { StateStore } from "../state-store.js";
import { jobEnvironment } from "./job-environment.js";

/** What launching needs from the manager. */
export interface LaunchContext {
  options: ResolvedOptions;
  store: StateStore;
  cgroups: CgroupRoot;
  launcher: LauncherService;
}

/**
 * Creates a starting job's directory and cgroup and has the launcher run it.
 * Resolves once its program runs; rejects with a JobError a caller can act on.
 */
export async function launchJob(context: LaunchContext, job: ManagedJob, request: StartRequest): Promise<LaunchedJob> {
  const { options, store, cgroups, launcher } = context;
  const { id, uid, limits } = job.record;
  const workdir = job.record.workingDirectory;
  // IO limits apply to the disk the job's IO reaches: an exposed working directory's, else the state dir's.
  const ioPath = options.exposedPaths.some(({ path }) => workdir === path || workdir.startsWith(`${path}/`))
    ? workdir
    : store.root;
  // Independent set-up steps run concurrently: start latency is what CI users feel.
  const [executable, disk] = await Promise.all([
    resolveCommand(request.command),
    hasIoLimits(limits) ? wholeDiskOf(ioPath) : undefined,
  ]);
  if (hasIoLimits(limits) && !disk) {
    throw invalidArgument(`IO limits need a block device, and none backs ${ioPath}`);
  }
  if (!isInJobView(executable, options.exposedPaths)) {
    throw invalidArgument(
      `command ${executable} is outside the job's view; an operator can make its directory visible with --expose`,
    );
  }
  job.update({ executable });
  // The launcher creates the cgroup: from here on a failed start removes it (discardFailedStart).
  const { cgroup, writes } = await cgroups.planned(id, limits, disk);
  job.useCgroup(cgroup);
  const diskBytes = limits.diskBytes ?? options.defaultLimits.diskBytes ?? 2 ** 30;
  return launcher
    .launch({
      jobDir: store.jobDir(id),
      logPath: store.logPath(id),
      executable,
      argv: [executable, ...(request.args ?? [])],
      env: jobEnvironment(request.env, JOB_WORK_DIR),
      workdir,
      privateDir: JOB_WORK_DIR,
      hideDir: store.root,
      systemDirs: SYSTEM_DIRS,
      exposed: options.exposedPaths,
      hostname: `job-${id.slice(0, 8)}`,
      uid,
      gid: uid,
      diskBytes,
      diskInodes: inodesFor(diskBytes),
      // One byte past the limit is allowed, so that output of exactly the limit is not mistaken for too much.
      outputLimitBytes: outputLimitFor(limits.diskBytes, options.outputCapBytes) + 1,
      cgroup2Path: cgroup.unifiedPath,
      cgroup1Paths: cgroup.v1Paths,
      cgroupWrites: writes,
      cgroupReads: cgroup.limits.endFiles(),
      stdin: request.tty ? "tty" : request.stdin ? "pipe" : "null",
      terminalSize: request.terminalSize,
    })
    .catch((error: unknown) => {
      throw launchFailure(error, executable, workdir);
    });
}

/** Turns a launcher failure into the error a caller can act on. */
function launchFailure(error: unknown, executable: string, workdir: string): Error {
  if (!(error instanceof LaunchError)) return error instanceof Error ? error : new Error(String(error));
  if (error.isWorkdirFailure) return workingDirectoryRefused(workdir);
  if (error.call === "cgroup") {
    return new JobError("internal", `creating the job's cgroup failed at ${error.path}: ${error.errno}`, {
      cause: error,
    });
  }
  if (error.errno === "ENOSPC" || error.errno === "EDQUOT") {
    return new JobError("resource_exhausted", "the state directory is full: delete jobs or free space", {
      cause: error,
    });
  }
  if (error.isExecFailure) {
    const why: Record<string, string> = {
      ENOENT: "no such file (or its interpreter is missing)",
      EACCES: "permission denied (not executable by the job's user?)",
      ENOEXEC: "not an executable format",
      ENOTDIR: "a path component is not a directory",
    };
    return invalidArgument(`cannot execute ${executable}: ${why[error.errno] ?? error.errno}`);
  }
  return new JobError("internal", error.message, { cause: error });
}
