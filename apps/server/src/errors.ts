import { Code, ConnectError } from "@connectrpc/connect";
import { isJobError, type JobErrorCode } from "@jobworker/core";

const CODES: Record<JobErrorCode, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  failed_precondition: Code.FailedPrecondition,
  resource_exhausted: Code.ResourceExhausted,
  internal: Code.Internal,
};

/**
 * Maps any error a handler throws to what the client sees: domain errors to
 * their Connect code and message; anything else to Internal with no detail
 * (the detail goes to the server log, under the request id the client gets).
 */
export function toConnectError(error: unknown, requestId: string): ConnectError {
  if (error instanceof ConnectError) return error;
  if (isJobError(error) && error.code !== "internal") return new ConnectError(error.message, CODES[error.code]);
  return new ConnectError(`internal error (request ${requestId})`, Code.Internal);
}
