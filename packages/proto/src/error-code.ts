/**
 * Response metadata key under which every error jobworker-server returns
 * carries its stable code: a header for Connect unary calls, a trailer for gRPC
 * and gRPC-Web, the end-of-stream metadata for Connect streams. Plain ASCII, so
 * any gRPC client reads it as ordinary metadata (docs/api.md).
 */
export const ERROR_CODE_KEY = "jobworker-error-code";

/**
 * The codes that name a gRPC status as a whole: `JW_ERR_` and the status name.
 * An error with nothing more specific to say carries the one of its status.
 */
export const STATUS_ERROR_CODES = [
  "JW_ERR_CANCELED",
  "JW_ERR_UNKNOWN",
  "JW_ERR_INVALID_ARGUMENT",
  "JW_ERR_DEADLINE_EXCEEDED",
  "JW_ERR_NOT_FOUND",
  "JW_ERR_ALREADY_EXISTS",
  "JW_ERR_PERMISSION_DENIED",
  "JW_ERR_RESOURCE_EXHAUSTED",
  "JW_ERR_FAILED_PRECONDITION",
  "JW_ERR_ABORTED",
  "JW_ERR_OUT_OF_RANGE",
  "JW_ERR_UNIMPLEMENTED",
  "JW_ERR_INTERNAL",
  "JW_ERR_UNAVAILABLE",
  "JW_ERR_DATA_LOSS",
  "JW_ERR_UNAUTHENTICATED",
] as const;

/** Codes more specific than their status, each always sent with one status (docs/api.md). */
export const SPECIFIC_ERROR_CODES = [
  /** PERMISSION_DENIED: the certificate does not carry exactly one OU of "admin" or "user". */
  "JW_ERR_NO_ROLE",
  /** PERMISSION_DENIED: the request needs the admin role. */
  "JW_ERR_ADMIN_ONLY",
  /** INVALID_ARGUMENT: the job id is not a lowercase canonical UUID. */
  "JW_ERR_MALFORMED_JOB_ID",
] as const;

/** A stable error code, as sent under ERROR_CODE_KEY. */
export type ErrorCode = (typeof STATUS_ERROR_CODES)[number] | (typeof SPECIFIC_ERROR_CODES)[number];

const KNOWN: ReadonlySet<string> = new Set([...STATUS_ERROR_CODES, ...SPECIFIC_ERROR_CODES]);

/** True when `value` is a code this version of the API defines. */
export function isErrorCode(value: string): value is ErrorCode {
  return KNOWN.has(value);
}

/**
 * The code that names a whole status, from the status's name in either
 * spelling: "NotFound" (Connect's enum) or "NOT_FOUND" (gRPC's).
 */
export function statusErrorCode(statusName: string): (typeof STATUS_ERROR_CODES)[number] {
  const snake = statusName.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
  const code = `JW_ERR_${snake}`;
  return STATUS_ERROR_CODES.find((known) => known === code) ?? "JW_ERR_UNKNOWN";
}
