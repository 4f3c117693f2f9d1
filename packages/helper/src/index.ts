/**
 * @jobworker/helper: the launcher that runs one job in its own namespaces and
 * cgroup, unprivileged and seccomp-filtered, and the TypeScript face that drives it.
 */
export { type ControlRequest, sendControl } from "./control.js";
export {
  EXIT_RECORD_FILE,
  type ExitRecord,
  type LaunchRecord,
  type RecordedCgroup,
  readExitRecord,
  readLaunchRecord,
} from "./exit-record.js";
export { ATTACH_SOCKET_FILE, type ExecEvent, type ExecSpec, JobChannel } from "./job-channel.js";
export { LaunchError } from "./launch-error.js";
export type { ExposedPath, LaunchSpec, TerminalSize } from "./launch-spec.js";
export { type LaunchedJob, LauncherService, launcherPath } from "./launcher-service.js";
