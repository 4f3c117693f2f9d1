/**
 * Stable codes of core's domain errors. Servers map each one to a transport
 * code (the Connect server maps them one-to-one to Connect codes).
 */
export type JobErrorCode = "invalid_argument" | "not_found" | "failed_precondition" | "resource_exhausted" | "internal";

/** A domain error: `code` is for programs, `message` is for people. */
export class JobError extends Error {
  override readonly name = "JobError";

  constructor(
    readonly code: JobErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Narrows an unknown thrown value to a JobError. */
export function isJobError(error: unknown): error is JobError {
  return error instanceof JobError;
}

export const invalidArgument = (message: string) => new JobError("invalid_argument", message);
export const notFound = (id: string) => new JobError("not_found", `job ${id} not found`);
export const failedPrecondition = (message: string) => new JobError("failed_precondition", message);
