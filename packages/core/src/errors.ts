/**
 * Stable codes of core's domain errors, defined here and nowhere else. Servers
 * map each one to a transport code (apps/server maps them one-to-one to Connect
 * codes, with a test that pins the mapping). Programs switch on the code, never
 * on the message.
 */
export const JOB_ERROR_CODES = [
  "invalid_argument",
  "not_found",
  "already_exists",
  "failed_precondition",
  "resource_exhausted",
  "internal",
] as const;

/** One of JOB_ERROR_CODES. */
export type JobErrorCode = (typeof JOB_ERROR_CODES)[number];

/** A domain error: `code` is for programs, `message` is for people. */
export class JobError extends Error {
  /** Always "JobError". */
  override readonly name = "JobError";
  /** What went wrong, for programs to switch on: stable across versions. */
  readonly code: JobErrorCode;

  constructor(code: JobErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Narrows an unknown thrown value to a JobError. */
export function isJobError(error: unknown): error is JobError {
  return error instanceof JobError;
}

/** The request is malformed or out of range. */
export const invalidArgument = (message: string) => new JobError("invalid_argument", message);
/** No job with this id is in the caller's scope (a missing job and another owner's look the same). */
export const notFound = (id: string) => new JobError("not_found", `job ${id} not found`);
/** What the call would create exists already (a job of the same name and owner). */
export const alreadyExists = (message: string) => new JobError("already_exists", message);
/** The job is not in a state that allows the call. */
export const failedPrecondition = (message: string) => new JobError("failed_precondition", message);
