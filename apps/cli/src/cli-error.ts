import { Code, ConnectError } from "@connectrpc/connect";
import { ERROR_CODE_KEY, type ErrorCode, statusErrorCode } from "@jobworker/proto";

/** Exit code of the CLI's own failures (as docker run): cannot connect, refused, invalid input. */
export const CLI_FAILURE_EXIT = 125;

/**
 * Codes of the failures runjob finds itself, before or without an answer from
 * the server; defined here and nowhere else (docs/api.md lists them). Errors
 * from the server keep the code it sent.
 */
export const CLI_ERROR_CODES = [
  /** Bad flags or arguments. */
  "JW_ERR_USAGE",
  /** Nothing answers at the server address. */
  "JW_ERR_UNREACHABLE",
  /** The TLS handshake failed: wrong CA, certificate or key, or an expired one. */
  "JW_ERR_TLS",
  /** A certificate or key file cannot be read. */
  "JW_ERR_CREDENTIALS",
  /** runjob's config.json is not valid. */
  "JW_ERR_CLI_CONFIG",
  /** A job id prefix matches more than one job. */
  "JW_ERR_AMBIGUOUS_ID",
] as const;

/** A code runjob reports: one of its own, or one the API defines. */
export type CliErrorCode = (typeof CLI_ERROR_CODES)[number] | ErrorCode;

/** A failure already phrased for the user: one line, what went wrong and what to do, with its code. */
export class CliError extends Error {
  override readonly name = "CliError";

  constructor(
    readonly code: CliErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** An error as runjob reports it: its stable code, and the one line the user reads. */
export interface DescribedError {
  code: string;
  message: string;
}

/** Turns any error into its code and the one line the user reads. */
export function describeError(error: unknown, server: string): DescribedError {
  if (error instanceof CliError) return { code: error.code, message: error.message };
  if (error instanceof ConnectError) return describeConnectError(error, server);
  if (isUsageError(error)) return { code: "JW_ERR_USAGE", message: oneLine(error.message) };
  return { code: "JW_ERR_UNKNOWN", message: firstLine(error instanceof Error ? error.message : String(error)) };
}

function describeConnectError(error: ConnectError, server: string): DescribedError {
  const cause = `${error.rawMessage} ${String((error.cause as Error | undefined)?.message ?? "")}`;
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT/.test(cause)) {
    return {
      code: "JW_ERR_UNREACHABLE",
      message: `cannot reach the server at ${server}: is jobworker-server running? (set --server or RUNJOB_SERVER)`,
    };
  }
  if (/certificate|alert|handshake|SSL|TLS|self.signed|unable to verify/i.test(cause)) {
    return {
      code: "JW_ERR_TLS",
      message: `the TLS handshake with ${server} failed (${firstLine(cause)}): check --cert, --key and --ca belong to the server's PKI and are not expired`,
    };
  }
  // A server that sent no code (or a refusal from its protocol layer): the code its status names.
  const code = error.metadata.get(ERROR_CODE_KEY) ?? statusErrorCode(Code[error.code]);
  return { code, message: connectErrorLine(error, server, cause) };
}

function connectErrorLine(error: ConnectError, server: string, cause: string): string {
  switch (error.code) {
    case Code.NotFound:
      return `${error.rawMessage} (see 'runjob list')`;
    case Code.InvalidArgument:
      return `invalid request: ${error.rawMessage}`;
    case Code.PermissionDenied:
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

/** oclif's parse errors (unknown flag, missing argument) carry exit code 2. */
function isUsageError(error: unknown): error is Error {
  if (!(error instanceof Error) || !("oclif" in error)) return false;
  const { oclif } = error;
  return typeof oclif === "object" && oclif !== null && "exit" in oclif && oclif.exit === 2;
}

/**
 * oclif spreads a parse error over lines ("Missing 1 required arg:\nid  job id")
 * and ends it with a pointer to --help, which the usage hint already gives.
 */
function oneLine(text: string): string {
  return (
    text
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith("See more help"))
      .join(" ")
      // oclif's note on flags that take several values assumes greedy ones; runjob's --context is not.
      .replace(/ Note: --[\w-]+ allows? multiple values\..*$/, "")
  );
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}
