/** Everything the launcher needs to start one job. Paths are host paths. */
export interface LaunchSpec {
  /** Directory of the job's own files: control FIFO and exit record go here. */
  jobDir: string;
  /** File the job's stdout and stderr are appended to. */
  logPath: string;
  /** Absolute path of the executable (already resolved against PATH). */
  executable: string;
  /** argv[0] onwards, as the job will see it. */
  argv: readonly string[];
  /** The job's whole environment. Nothing else is inherited. */
  env: Readonly<Record<string, string>>;
  /** Working directory inside the job. */
  workdir: string;
  /** Host directory made writable inside the job at the same path. */
  privateDir?: string;
  /** Host directory hidden from the job behind an empty read-only tmpfs (the state dir). */
  hideDir?: string;
  hostname: string;
  uid: number;
  gid: number;
  /** Size cap of the job's private /tmp, in bytes. */
  tmpSizeBytes: number;
  /** Unified-hierarchy cgroup the job is cloned into (CLONE_INTO_CGROUP). */
  cgroup2Path?: string;
  /** cgroup v1 controller directories the job joins before it execs. */
  cgroup1Paths: readonly string[];
}

/** Turns a spec into the launcher's command line (its protocol is described in launcher.c). */
export function toLauncherArgs(spec: LaunchSpec): string[] {
  const args = [
    "--job-dir",
    spec.jobDir,
    "--log",
    spec.logPath,
    "--hostname",
    spec.hostname,
    "--workdir",
    spec.workdir,
    "--uid",
    String(spec.uid),
    "--gid",
    String(spec.gid),
    "--tmp-size",
    String(spec.tmpSizeBytes),
  ];
  if (spec.privateDir) args.push("--private-dir", spec.privateDir);
  if (spec.hideDir) args.push("--hide", spec.hideDir);
  if (spec.cgroup2Path) args.push("--cgroup2", spec.cgroup2Path);
  for (const path of spec.cgroup1Paths) args.push("--cgroup1", path);
  // The launcher execs argv[0] as a path; the job's argv[0] is the executable path too.
  args.push("--", spec.executable, ...spec.argv.slice(1));
  return args;
}
