import { Code } from "@connectrpc/connect";
import type { JobErrorCode } from "@jobworker/core";
import type { ErrorCode } from "@jobworker/proto";

/**
 * The server's codes, defined once. Core's codes map one-to-one to Connect
 * codes; every code a client may see (from @jobworker/proto) is sent with
 * exactly one Connect code. errors.spec.ts pins both tables.
 */

/** The Connect code of each of core's codes (ARCHITECTURE §7). */
export const STATUS_OF_JOB_ERROR: Readonly<Record<JobErrorCode, Code>> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  failed_precondition: Code.FailedPrecondition,
  resource_exhausted: Code.ResourceExhausted,
  internal: Code.Internal,
};

/** The Connect code each API error code is sent with. */
export const STATUS_OF: Readonly<Record<ErrorCode, Code>> = {
  JW_ERR_CANCELED: Code.Canceled,
  JW_ERR_UNKNOWN: Code.Unknown,
  JW_ERR_INVALID_ARGUMENT: Code.InvalidArgument,
  JW_ERR_DEADLINE_EXCEEDED: Code.DeadlineExceeded,
  JW_ERR_NOT_FOUND: Code.NotFound,
  JW_ERR_ALREADY_EXISTS: Code.AlreadyExists,
  JW_ERR_PERMISSION_DENIED: Code.PermissionDenied,
  JW_ERR_RESOURCE_EXHAUSTED: Code.ResourceExhausted,
  JW_ERR_FAILED_PRECONDITION: Code.FailedPrecondition,
  JW_ERR_ABORTED: Code.Aborted,
  JW_ERR_OUT_OF_RANGE: Code.OutOfRange,
  JW_ERR_UNIMPLEMENTED: Code.Unimplemented,
  JW_ERR_INTERNAL: Code.Internal,
  JW_ERR_UNAVAILABLE: Code.Unavailable,
  JW_ERR_DATA_LOSS: Code.DataLoss,
  JW_ERR_UNAUTHENTICATED: Code.Unauthenticated,
  JW_ERR_NO_ROLE: Code.PermissionDenied,
  JW_ERR_ADMIN_ONLY: Code.PermissionDenied,
  JW_ERR_MALFORMED_JOB_ID: Code.InvalidArgument,
};

/**
 * Codes of the configuration errors jobworker-server reports at start-up
 * (never sent to clients: a server with a bad configuration does not serve).
 */
export const CONFIG_ERROR_CODES = [
  /** An unknown flag, or a flag without its value. */
  "JW_ERR_CONFIG_FLAG",
  /** A setting's value cannot be used: not of its kind (a non-negative integer, say), or naming a file that cannot be read. */
  "JW_ERR_CONFIG_VALUE",
  /** The config file cannot be read, is not a JSON object, or names an unknown setting. */
  "JW_ERR_CONFIG_FILE",
] as const;

/** One of CONFIG_ERROR_CODES. */
export type ConfigErrorCode = (typeof CONFIG_ERROR_CODES)[number];
