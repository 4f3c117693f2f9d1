import { constants } from "node:os";

/** Setup stages of the launcher, numbered as in launcher.c's `enum stage`. */
const STAGES = [
  "",
  "parsing its arguments",
  "opening the job's files",
  "creating the job's namespaces",
  "joining the job's cgroup v1 controllers",
  "creating the job's cgroup namespace",
  "setting up the job's mounts",
  "setting the job's hostname",
  "bringing up the job's loopback interface",
  "forking the job's process",
  "dropping the job's privileges",
  "installing the job's seccomp filter",
  "executing the command",
] as const;

const EXEC_STAGE = 12;

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([name, value]) => [value, name]));

/** Why the launcher could not start a job: the failing stage and the errno it got. */
export class LaunchError extends Error {
  override readonly name = "LaunchError";
  /** The errno name, for example "ENOENT". */
  readonly errno: string;
  /** True when the job's own exec failed (as opposed to the sandbox set-up). */
  readonly isExecFailure: boolean;

  constructor(stage: number, errno: number) {
    const code = errnoNames.get(errno) ?? `errno ${errno}`;
    super(`launcher failed ${STAGES[stage] ?? `at stage ${stage}`}: ${code}`);
    this.errno = code;
    this.isExecFailure = stage === EXEC_STAGE;
  }
}
