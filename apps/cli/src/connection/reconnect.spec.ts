import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { CliError } from "../cli-error.js";
import { isRetryable, Reconnector } from "./reconnect.js";

/** What connect-node makes of a Node error it does not know: INTERNAL, with the error as its cause. */
function closingConnection(code: string, message: string): ConnectError {
  return new ConnectError(message, Code.Internal, undefined, undefined, Object.assign(new Error(message), { code }));
}

const unavailable = () => new ConnectError("connect ECONNREFUSED 127.0.0.1:8443", Code.Unavailable);

describe("reconnecting to a server that went away", () => {
  it.each([
    [unavailable(), true],
    [new ConnectError("read ECONNRESET", Code.Aborted), true],
    [new ConnectError("http/2 stream closed with error code CANCEL (0x8)", Code.Canceled), true],
    [new ConnectError("Stream closed with error code NGHTTP2_REFUSED_STREAM", Code.Internal), true],
    [closingConnection("ERR_HTTP2_GOAWAY_SESSION", "New streams cannot be created after receiving a GOAWAY"), true],
    [closingConnection("EPIPE", "write EPIPE"), true],
    [new ConnectError("internal error (request 1)", Code.Internal), false],
    [new ConnectError("job x not found", Code.NotFound), false],
    [new ConnectError("busy", Code.ResourceExhausted), false],
  ])("%s is retried: %s", (error, retryable) => {
    expect(isRetryable(error)).toBe(retryable);
  });

  it("retries until the call succeeds, saying once that it lost the server and once that it is back", async () => {
    const lines: string[] = [];
    const reconnector = new Reconnector(60_000, new AbortController().signal, (line) => lines.push(line));
    let attempts = 0;
    const result = await reconnector.retry(async () => {
      if (++attempts < 3) throw unavailable();
      reconnector.progressed();
      return "answer";
    });
    expect([result, attempts]).toEqual(["answer", 3]);
    expect(lines).toEqual([
      "lost the server (connect ECONNREFUSED 127.0.0.1:8443); reconnecting for up to 1m0s",
      "reconnected",
    ]);
  });

  it("gives up once the budget is spent, naming it and the flag to raise", async () => {
    const reconnector = new Reconnector(300, new AbortController().signal, () => {});
    const failure = await reconnector
      .retry(async () => {
        throw unavailable();
      })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CliError);
    expect(String(failure)).toMatch(/unreachable for 300ms .*raise --reconnect/);
  });

  it("with a budget of 0, or an answer that is not an outage, fails at once with the call's own error", async () => {
    const error = unavailable();
    await expect(new Reconnector(0, new AbortController().signal, () => {}).backOff(error)).rejects.toBe(error);
    const notFound = new ConnectError("job x not found", Code.NotFound);
    await expect(new Reconnector(60_000, new AbortController().signal, () => {}).backOff(notFound)).rejects.toBe(
      notFound,
    );
  });
});
