import { Code, ConnectError } from "@connectrpc/connect";
import { Flags } from "@oclif/core";
import { CliError } from "../cli-error.js";
import { formatDurationMs, parseDuration } from "../units.js";

/** The `--reconnect` flag of the commands that outlast a server restart (logs -f, start --follow, wait). */
export const reconnectFlag = Flags.string({
  summary: "Keep reconnecting this long when the server goes away (restart, shutdown), then fail; 0: never.",
  description: "A follower resumes from the last byte it printed, so a restart costs neither lost nor repeated output.",
  default: "1m",
  helpGroup: "CONNECTION",
});

/** First wait before reconnecting; each failed attempt doubles it, up to MAX_DELAY_MS. */
const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 2_000;

/** Codes that only the transport produces here, never jobworker-server's answer. */
const CUT: ReadonlySet<Code> = new Set([
  // unreachable, or shutting down
  Code.Unavailable,
  // a connection reset under the call (read ECONNRESET)
  Code.Aborted,
  // a dying server's streams closed under the call (runjob cancels only when it stops anyway)
  Code.Canceled,
]);

/**
 * Node's own errors for a connection that is closing or gone. connect-node
 * reports them as INTERNAL, like a server's answer, but only the transport
 * raises them: a call issued just as a stopping server sent GOAWAY, or written
 * to a socket it had just closed.
 */
const CLOSING_CONNECTION_ERRORS: ReadonlySet<string> = new Set([
  "ERR_HTTP2_GOAWAY_SESSION",
  "ERR_HTTP2_INVALID_SESSION",
  "ERR_HTTP2_SESSION_ERROR",
  "ERR_HTTP2_STREAM_CANCEL",
  "EPIPE",
  "ECONNRESET",
]);

/**
 * Whether a failed call may simply be sent again: the server was unreachable,
 * going away or gone (see CUT), it refused the call's stream unprocessed
 * while shutting down (HTTP/2 REFUSED_STREAM), or the connection failed under
 * the call (CLOSING_CONNECTION_ERRORS). Anything else is an answer.
 */
export function isRetryable(error: unknown): boolean {
  const connectError = ConnectError.from(error);
  if (CUT.has(connectError.code)) return true;
  if (connectError.code !== Code.Internal) return false;
  return (
    /REFUSED_STREAM/.test(connectError.rawMessage) ||
    nodeErrorCodes(connectError).some((code) => CLOSING_CONNECTION_ERRORS.has(code))
  );
}

/** The `code`s of an error and of its chain of causes. */
function nodeErrorCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let link = error; link instanceof Error && codes.length < 8; link = link.cause) {
    const code = (link as NodeJS.ErrnoException).code;
    if (typeof code === "string") codes.push(code);
  }
  return codes;
}

/**
 * Paces reconnection attempts during one outage of the server: exponential
 * backoff, for at most `budgetMs` from the first failure. A call that reaches
 * the server again ends the outage, so the next one gets the whole budget.
 */
export class Reconnector {
  private outageStartedAt: number | undefined;
  private delayMs = FIRST_DELAY_MS;

  constructor(
    private readonly budgetMs: number,
    private readonly signal: AbortSignal,
    private readonly say: (line: string) => void = (line) => process.stderr.write(`runjob: ${line}\n`),
  ) {}

  /** The parsed `--reconnect` flag. */
  static fromFlag(value: string, signal: AbortSignal): Reconnector {
    return new Reconnector(parseDuration(value, "reconnect"), signal);
  }

  /**
   * Asked once per outage, before waiting: an error that names a cause no
   * retry can fix (the server refusing this client's certificate looks like a
   * dropped connection), or undefined to go on reconnecting.
   */
  diagnose?: (error: unknown) => Promise<Error | undefined>;

  /** A call reached the server: a later outage starts afresh. */
  progressed(): void {
    if (this.outageStartedAt !== undefined) this.say("reconnected");
    this.outageStartedAt = undefined;
    this.delayMs = FIRST_DELAY_MS;
  }

  /**
   * Called with a failed attempt's error: resolves when it is time to try again,
   * or rethrows the error when it is not worth retrying, the budget is spent,
   * or the user interrupted.
   */
  async backOff(error: unknown): Promise<void> {
    const now = performance.now();
    if (this.budgetMs === 0 || !isRetryable(error) || this.signal.aborted) throw error;
    if (this.outageStartedAt === undefined) {
      const cause = await this.diagnose?.(error);
      if (cause) throw cause;
      this.outageStartedAt = now;
      const reason = ConnectError.from(error).rawMessage;
      this.say(`lost the server (${reason}); reconnecting for up to ${formatDurationMs(this.budgetMs)}`);
    }
    const left = this.outageStartedAt + this.budgetMs - now;
    if (left <= 0) {
      throw new CliError(
        "JW_ERR_UNREACHABLE",
        `the server stayed unreachable for ${formatDurationMs(this.budgetMs)} (${ConnectError.from(error).rawMessage}): start it, or raise --reconnect`,
      );
    }
    const delay = Math.min(this.delayMs, left);
    this.delayMs = Math.min(this.delayMs * 2, MAX_DELAY_MS);
    await abortableDelay(delay, this.signal);
  }

  /** Runs `call` until it succeeds, reconnecting as `backOff` allows. */
  async retry<T>(call: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await call();
      } catch (error) {
        await this.backOff(error);
      }
    }
  }
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
