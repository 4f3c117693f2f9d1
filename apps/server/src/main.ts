import { setDefaultHighWaterMark } from "node:stream";
import { ConfigError, loadConfig, usage } from "./config.js";
import { startJobServer } from "./job-server.js";
import { createServerLogger, resolveLogFormat } from "./logging/log-format.js";

/** Bytes a stream (an HTTP/2 response among them) buffers before its writer waits. */
const STREAM_BUFFER_BYTES = 16 * 1024;

/** Entry point of `jobworker-server`: configure, serve, and shut down gracefully on SIGTERM/SIGINT. */
export async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === "pki") {
    // Loaded only here: the serving process never needs the CA's X.509 tooling.
    const { pkiMain } = await import("./pki/pki-command.js");
    process.exitCode = await pkiMain(argv.slice(1));
    return;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(argv);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(
      `jobworker-server: ${error.message} [${error.code}]\nRun 'jobworker-server --help' for the settings.\n`,
    );
    process.exit(2);
  }
  if (config === "help") {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  // What a stream buffers before its writer waits. Node's 64 KiB default applies to each
  // HTTP/2 response too, on top of the chunk being written: a client that never reads
  // would pin that much per stream. Throughput needs no more than a chunk in flight.
  setDefaultHighWaterMark(false, STREAM_BUFFER_BYTES);
  const logger = createServerLogger(config.logLevel, resolveLogFormat(config.logFormat));
  // connect-node reports a response it could not finish writing (a client that went
  // away mid-stream) with console.error: keep it in the structured log instead.
  console.error = (...args: unknown[]) => logger.warn({ detail: args.map(String).join(" ") }, "connect-node");
  let server: Awaited<ReturnType<typeof startJobServer>>;
  try {
    server = await startJobServer(config, logger);
  } catch (error) {
    const reason = error instanceof ConfigError ? error.message : String(error);
    logger.fatal({ err: error }, `jobworker-server could not start: ${reason}`);
    process.stderr.write(`jobworker-server: could not start: ${reason}\n`);
    // Exit now: a listener or timer left behind must not keep a failed server alive.
    process.exit(1);
  }
  const stop = (signal: string) => {
    logger.info({ signal }, "shutting down: running jobs keep running and are re-adopted at the next start");
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  // SIGHUP: read the certificate, key, client CA and CRL again (open connections keep theirs).
  process.on("SIGHUP", () => server.reloadTls("SIGHUP"));
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}
