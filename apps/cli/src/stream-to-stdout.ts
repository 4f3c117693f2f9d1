import type { JobClient } from "./connection/client.js";
import { writeStdout } from "./output-writer.js";

/** Copies a job's output to stdout, byte for byte, until the stream ends, `signal` aborts or stdout closes. */
export async function streamToStdout(
  client: JobClient,
  request: { id: string; fromOffset?: bigint; follow: boolean },
  signal: AbortSignal,
): Promise<void> {
  try {
    for await (const chunk of client.streamOutput(request, { signal })) {
      if (!(await writeStdout(chunk.data))) return;
    }
  } catch (error) {
    if (signal.aborted) return;
    throw error;
  }
}

/** An AbortSignal that fires on Ctrl-C (SIGINT), with `interrupted` telling whether it did. */
export function interruptSignal(): { signal: AbortSignal; interrupted: () => boolean } {
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort());
  return { signal: controller.signal, interrupted: () => controller.signal.aborted };
}
