import { Code, ConnectError } from "@connectrpc/connect";
import { isJobError } from "@jobworker/core";
import { ERROR_CODE_KEY, type ErrorCode, statusErrorCode } from "@jobworker/proto";
import { STATUS_OF, STATUS_OF_JOB_ERROR } from "./error-codes.js";

/** An error for the client: the Connect code that belongs to `code`, and `code` itself in the error's metadata. */
export function apiError(code: ErrorCode, message: string): ConnectError {
  return new ConnectError(message, STATUS_OF[code], { [ERROR_CODE_KEY]: code });
}

/**
 * Maps any error a handler throws to what the client sees, always with a
 * stable code: domain errors to their Connect code and message; Connect's own
 * errors (a request over the size cap, say) keep theirs and gain the code of
 * their status; anything else is Internal with no detail (the detail goes to
 * the server log, under the request id the client gets).
 */
export function toConnectError(error: unknown, requestId: string): ConnectError {
  if (error instanceof ConnectError) {
    if (!error.metadata.has(ERROR_CODE_KEY)) error.metadata.set(ERROR_CODE_KEY, statusErrorCode(Code[error.code]));
    return error;
  }
  if (isJobError(error) && error.code !== "internal") {
    const status = STATUS_OF_JOB_ERROR[error.code];
    return apiError(statusErrorCode(Code[status]), error.message);
  }
  return apiError("JW_ERR_INTERNAL", `internal error (request ${requestId})`);
}
