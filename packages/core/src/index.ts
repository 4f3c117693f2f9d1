/**
 * @jobworker/core: runs isolated, limited jobs on this host and streams their
 * output. No network: the server puts authentication and a transport on top.
 */

export { CgroupRoot } from "./cgroups/cgroup-root.js";
export type { ResourceUsage } from "./cgroups/controller.js";
export { defaultJobsCeiling, type JobsCeiling, reservedMemory } from "./cgroups/host-headroom.js";
export { JobCgroup } from "./cgroups/job-cgroup.js";
export { type CgroupLayout, detectLayout, parseLayout } from "./cgroups/layout.js";
export { isJobError, JOB_ERROR_CODES, JobError, type JobErrorCode } from "./errors.js";
export { inScope, type Job, type JobScope, type StartRequest } from "./job.js";
export { JobManager } from "./job-manager.js";
export { canTransition, type EndReason, JOB_STATES, type JobState, type StopCause } from "./job-state.js";
export { LIMIT_NAMES, type LimitName, type Limits } from "./limits.js";
export type { JobPage } from "./listing.js";
export { DEFAULT_PATH, type JobManagerOptions } from "./options.js";
export { CHUNK_BYTES, type OutputChunk, type ReadOutputOptions } from "./output/log-reader.js";
export { DEFAULT_QUOTA, type OwnerQuota } from "./quota.js";
