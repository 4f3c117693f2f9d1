import { constants } from "node:os";

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([name, value]) => [value, name]));

/**
 * Why the launcher could not start a job: the call that failed, the path it
 * acted on, and the errno it got, as in `mount_setattr /usr: EPERM`.
 */
export class LaunchError extends Error {
  /** Always "LaunchError". */
  override readonly name = "LaunchError";
  /** The errno name, for example "ENOENT". */
  readonly errno: string;
  /** The failing call, for example "execve" or "mount_setattr". */
  readonly call: string;
  /** The path it acted on, in the job's view once the view exists; "-" when none. */
  readonly path: string;

  constructor(errno: number, what: string) {
    const code = errnoNames.get(errno) ?? `errno ${errno}`;
    const space = what.indexOf(" ");
    const call = space < 0 ? what : what.slice(0, space);
    const path = space < 0 ? "-" : what.slice(space + 1);
    super(`launcher: ${what}: ${code}`);
    this.errno = code;
    this.call = call;
    this.path = path;
  }

  /** True when the job's own exec failed (as opposed to the sandbox set-up). */
  get isExecFailure(): boolean {
    return this.call === "execve";
  }

  /** True when the job's user could not enter its working directory. */
  get isWorkdirFailure(): boolean {
    return this.call === "chdir";
  }
}
