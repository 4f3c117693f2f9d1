import type { JobManager } from "../job-manager.js";

/**
 * Resolves once a job's output contains `text` (by default: any output at
 * all), following it as it is written. Fails when the job ends without
 * printing it, or after `timeoutMs`.
 */
export async function waitForOutput(manager: JobManager, id: string, text = "", timeoutMs = 30_000): Promise<void> {
  const signal = AbortSignal.timeout(timeoutMs);
  let seen = "";
  for await (const chunk of manager.openOutput(id, { allOwners: true }, { follow: true, signal })) {
    seen += Buffer.from(chunk.data).toString();
    if (seen.includes(text)) return;
  }
  const why = signal.aborted ? `within ${timeoutMs} ms` : "before it ended";
  throw new Error(`job ${id} did not print ${JSON.stringify(text)} ${why}; it printed ${JSON.stringify(seen)}`);
}
