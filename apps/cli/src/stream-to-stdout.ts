import { type Timestamp, timestampMs } from "@bufbuild/protobuf/wkt";
import { CliError } from "./cli-error.js";
import type { JobClient } from "./connection/client.js";
import type { Reconnector } from "./connection/reconnect.js";
import { LineStamper } from "./format/line-stamper.js";
import { writeStdout } from "./output-writer.js";

/**
 * Copies a job's output to stdout, byte for byte, until the stream ends, `signal`
 * aborts or stdout closes. When the server goes away, `reconnector` paces new
 * attempts, each resuming at the byte after the last one written: nothing is
 * lost or repeated.
 */
export async function streamToStdout(
  client: JobClient,
  request: {
    id: string;
    fromOffset?: bigint;
    follow: boolean;
    tailLines?: bigint;
    since?: Timestamp;
    timestamps?: boolean;
  },
  signal: AbortSignal,
  reconnector: Reconnector,
): Promise<void> {
  let offset = request.fromOffset ?? 0n;
  let started = false;
  const stamper = request.timestamps ? new LineStamper() : undefined;
  for (;;) {
    try {
      // Once output has come, a reconnect resumes at the next byte: the tail and since were found already.
      const query = started ? { id: request.id, follow: request.follow, timestamps: request.timestamps } : request;
      for await (const chunk of client.streamOutput({ ...query, fromOffset: offset }, { signal })) {
        reconnector.progressed();
        if (!started) offset = chunk.offset;
        started = true;
        if (chunk.offset > offset) {
          throw new CliError(
            "JW_ERR_INTERNAL",
            `the server skipped output from byte ${offset} to ${chunk.offset}; try 'runjob logs' again`,
          );
        }
        // A chunk that starts before what was written already is trimmed, never written twice.
        const data = chunk.data.subarray(Number(offset - chunk.offset));
        const shown = stamper && chunk.time ? stamper.stamp(data, timestampMs(chunk.time)) : data;
        if (!(await writeStdout(shown))) return;
        offset += BigInt(data.length);
      }
      return;
    } catch (error) {
      if (signal.aborted) return;
      await reconnector.backOff(error);
      if (signal.aborted) return;
    }
  }
}

/** An AbortSignal that fires on Ctrl-C (SIGINT), with `interrupted` telling whether it did. */
export function interruptSignal(): { signal: AbortSignal; interrupted: () => boolean } {
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort());
  return { signal: controller.signal, interrupted: () => controller.signal.aborted };
}
