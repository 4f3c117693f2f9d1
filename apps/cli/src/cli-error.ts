import { Code, ConnectError } from "@connectrpc/connect";

/** Exit code of the CLI's own failures (as docker run): cannot connect, refused, invalid input. */
export const CLI_FAILURE_EXIT = 125;

/** A failure already phrased for the user: one line, what went wrong and what to do. */
export class CliError extends Error {
  override readonly name = "CliError";
}

/** Turns any error into the one line the user reads. */
export function describeError(error: unknown, server: string): string {
  if (error instanceof CliError) return error.message;
  if (error instanceof ConnectError) return describeConnectError(error, server);
  return error instanceof Error ? error.message : String(error);
}

function describeConnectError(error: ConnectError, server: string): string {
  const cause = `${error.rawMessage} ${String((error.cause as Error | undefined)?.message ?? "")}`;
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT/.test(cause)) {
    return `cannot reach the server at ${server}: is jobworker-server running? (set --server or RUNJOB_SERVER)`;
  }
  if (/certificate|alert|handshake|SSL|TLS|self.signed|unable to verify/i.test(cause)) {
    return `the TLS handshake with ${server} failed (${firstLine(cause)}): check --cert, --key and --ca belong to the server's PKI and are not expired`;
  }
  switch (error.code) {
    case Code.NotFound:
      return `${error.rawMessage} (see 'runjob list')`;
    case Code.PermissionDenied:
      return `${error.rawMessage}`;
    case Code.InvalidArgument:
      return `invalid request: ${error.rawMessage}`;
    case Code.FailedPrecondition:
      return error.rawMessage;
    case Code.ResourceExhausted:
      return `the server is busy: ${error.rawMessage}; try again later`;
    case Code.Unavailable:
      return `the server at ${server} is unavailable (${firstLine(cause)}); try again`;
    default:
      return `${Code[error.code]}: ${error.rawMessage}`;
  }
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}
