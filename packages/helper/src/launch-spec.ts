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
  /** Working directory inside the job's view, entered as the job's uid. */
  workdir: string;
  /** Where the job's private, writable work dir appears in its view. */
  privateDir: string;
  /** Host directory kept out of the job's view even where an exposed path includes it (the state dir). */
  hideDir?: string;
  /** Host directories the job sees read-only at the same path, where the host has them (a symlink stays one). */
  systemDirs: readonly string[];
  /** Host paths visible to the job at the same path, read-only unless `writable`; parents before children. */
  exposed: readonly ExposedPath[];
  /** The job's hostname in its UTS namespace. */
  hostname: string;
  /** The uid the job runs as (never 0 for a job of jobworker's). */
  uid: number;
  /** The gid the job runs as; supplementary groups are cleared. */
  gid: number;
  /** Size of the job's writable space (work dir, /tmp, /run, /dev/shm: one tmpfs), in bytes. */
  diskBytes: number;
  /** Most files and directories in that space. */
  diskInodes: number;
  /** No file the job writes, its output included, may grow past this many bytes (RLIMIT_FSIZE). */
  outputLimitBytes: number;
  /** Unified-hierarchy cgroup the job is cloned into (CLONE_INTO_CGROUP). */
  cgroup2Path?: string;
  /** cgroup v1 controller directories the job joins before it execs. */
  cgroup1Paths: readonly string[];
  /**
   * When set, the launcher creates the cgroup directories above (they must not
   * exist yet) and writes these values into these files of them, in order,
   * before the job joins: its limits. It removes them again if that fails.
   */
  cgroupWrites?: readonly (readonly [file: string, value: string])[];
  /**
   * With `cgroupWrites`: files of the cgroup the launcher reads into the exit
   * record once the job is gone (its usage), before it removes the cgroup
   * (readExitRecord's `cgroup`).
   */
  cgroupReads?: readonly string[];
  /**
   * The job's stdin: "null" (`/dev/null`, the default), "pipe" (fed through the
   * job's attach socket, see job-channel.ts) or "tty" (a terminal from the
   * job's own devpts, which is also its stdout and stderr).
   */
  stdin?: "null" | "pipe" | "tty";
  /** The terminal's first window size, for "tty". */
  terminalSize?: TerminalSize;
}

/** A terminal's window size, in character cells. */
export interface TerminalSize {
  /** Lines of the window. */
  rows: number;
  /** Columns of the window. */
  columns: number;
}

/** A host path the operator makes visible to jobs. */
export interface ExposedPath {
  /** Absolute real path on the host; the job sees it at the same path. */
  path: string;
  /** True: the job may write there (as its own uid). False: read-only. */
  writable: boolean;
}

/** Turns a spec into the launcher's command line (its protocol is described in launcher/launcher.c). */
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
    "--private-dir",
    spec.privateDir,
    "--disk-bytes",
    String(spec.diskBytes),
    "--disk-inodes",
    String(spec.diskInodes),
    "--output-limit",
    String(spec.outputLimitBytes),
  ];
  if (spec.hideDir) args.push("--hide", spec.hideDir);
  for (const path of spec.systemDirs) args.push("--system", path);
  for (const { path, writable } of spec.exposed) args.push(writable ? "--expose-rw" : "--expose-ro", path);
  if (spec.cgroup2Path) args.push("--cgroup2", spec.cgroup2Path);
  for (const path of spec.cgroup1Paths) args.push("--cgroup1", path);
  if (spec.cgroupWrites) {
    args.push("--create-cgroups", "yes");
    for (const [file, value] of spec.cgroupWrites) args.push("--cgroup-write", `${file}\n${value}`);
    for (const file of spec.cgroupReads ?? []) args.push("--cgroup-read", file);
  }
  if (spec.stdin === "pipe" || spec.stdin === "tty") args.push("--stdin", spec.stdin);
  if (spec.stdin === "tty" && spec.terminalSize) {
    args.push("--rows", String(spec.terminalSize.rows), "--columns", String(spec.terminalSize.columns));
  }
  // The launcher execs argv[0] as a path; the job's argv[0] is the executable path too.
  args.push("--", spec.executable, ...spec.argv.slice(1));
  return args;
}
