/**
 * @jobworker/core: runs isolated, limited jobs on this host and streams their
 * output, with no server. Each job runs in its own namespaces and cgroup as a
 * transient unprivileged uid; its output is kept, readable from any offset;
 * jobs survive a restart of the program that started them.
 *
 * Start with {@link JobManager.open}, then {@link JobManager.forOwner} for a
 * program that runs its own jobs. Everything exported here is the package's
 * public API (pinned by api-report.d.ts); nothing else is.
 */

export type { ExposedPath } from "@jobworker/helper";
export type { StartOptions, StopOptions, WaitOptions } from "./call-options.js";
export type { CurrentUsage, ResourceUsage } from "./cgroups/controller.js";
export { defaultJobsCeiling, type JobsCeiling } from "./cgroups/host-headroom.js";
export { type CgroupLayout, detectLayout, V1_CONTROLLERS, type V1ControllerName } from "./cgroups/layout.js";
export { isJobError, JOB_ERROR_CODES, JobError, type JobErrorCode } from "./errors.js";
export type { ExecEvent, ExecRequest, JobExec } from "./interactive/job-exec.js";
export type { JobInput } from "./interactive/job-input.js";
export { parseSignal } from "./interactive/signals.js";
export { type Job, type JobFilter, type JobScope, matchesFilter, type StartRequest, type TerminalSize } from "./job.js";
export { JobManager } from "./job-manager.js";
export { type EndReason, JOB_STATES, type JobState, type StopCause } from "./job-state.js";
export { MAX_LABELS, MAX_NAME_LENGTH, validateJobName, validateLabels } from "./labels/job-labels.js";
export { type LabelRequirement, type LabelSelector, parseLabelSelector, selects } from "./labels/label-selector.js";
export { LIMIT_NAMES, type LimitName, type Limits } from "./limits.js";
export type { JobPage } from "./listing.js";
export type { TransitionListener } from "./managed-job.js";
export { DEFAULT_PATH, type JobManagerOptions } from "./options.js";
export { ChunkBuffers } from "./output/chunk-buffers.js";
export { CHUNK_BYTES, type OutputChunk, type ReadOutputOptions } from "./output/log-reader.js";
export type { OutputQuery } from "./output/output-query.js";
export { STRETCH_MS } from "./output/time-index.js";
export { DEFAULT_OWNER, OwnerJobs } from "./owner-jobs.js";
export { DEFAULT_QUOTA, type OwnerQuota } from "./quota.js";
export type { LiveUsage } from "./usage/usage-sampler.js";
export { MIN_USAGE_INTERVAL_MS, type UsageSample } from "./usage/usage-ticker.js";
export type { JobEvent, JobEventType } from "./watch/job-journal.js";
export type { WatchEvent, WatchOptions, WatchResume } from "./watch/watch-jobs.js";
