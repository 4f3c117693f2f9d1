import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Why a call's signal fired, as the code its caller must see: the server's
 * shutdown aborts with an UNAVAILABLE ConnectError (retry, and resume a stream
 * where it stopped); anything else means the client went away (CANCELED).
 * Never a success: a follower cut short must not look like a job that ended.
 */
export function interruption(reason: unknown): ConnectError {
  if (reason instanceof ConnectError) return reason;
  return new ConnectError("the client went away", Code.Canceled);
}

/** The reason every call in progress is aborted with when the server shuts down. */
export function shutdownReason(): ConnectError {
  return new ConnectError(
    "the server is shutting down: retry shortly (a stream resumes from the last offset it received)",
    Code.Unavailable,
  );
}
