import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { JobService } from "@jobworker/proto";

export type JobClient = Client<typeof JobService>;

/** The header 'runjob ui' checks on every call: the token from the page's URL. */
export const TOKEN_HEADER = "x-runjob-ui-token";

/** The token 'runjob ui' printed in the page's URL (?token=…). */
export function pageToken(): string {
  return new URLSearchParams(location.search).get("token") ?? "";
}

/**
 * A JobService client over gRPC-Web to the local 'runjob ui' server, which
 * forwards each call to the jobworker server over mutual TLS: the page never
 * holds a key, only the local server's token.
 */
export function createPageClient(token = pageToken()): JobClient {
  const transport = createGrpcWebTransport({
    baseUrl: location.origin,
    interceptors: [
      (next) => (request) => {
        request.header.set(TOKEN_HEADER, token);
        return next(request);
      },
    ],
  });
  return createClient(JobService, transport);
}

/** An error as a person reads it: what the server said, and its code. */
export function describeError(error: unknown): string {
  const connectError = ConnectError.from(error);
  if (connectError.code === Code.Unavailable) {
    return `the jobworker server cannot be reached (${connectError.rawMessage}); retrying`;
  }
  if (connectError.code === Code.Canceled) {
    return `the connection to the jobworker server broke (${connectError.rawMessage}); retrying`;
  }
  // runjob ui's own refusal (guard.ts) arrives as a bare HTTP status, without gRPC trailers.
  if (/^HTTP 40[13]/.test(connectError.rawMessage)) {
    return "this page's token is not the one 'runjob ui' printed: open the URL it printed";
  }
  return `${connectError.rawMessage} [${Code[connectError.code] ?? connectError.code}]`;
}

/**
 * True when a stream broke because the server went away: worth resuming. A
 * server killed mid-stream shows as CANCELED (its HTTP/2 stream was reset),
 * one not yet back as UNAVAILABLE; the page's own cancels never get here.
 */
export function isTransient(error: unknown): boolean {
  const code = ConnectError.from(error).code;
  return [Code.Unavailable, Code.Canceled, Code.Unknown, Code.Internal, Code.Aborted].includes(code);
}

/** Waits `ms`, or less when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
