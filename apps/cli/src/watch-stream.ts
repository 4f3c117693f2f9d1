import type { WatchJobsRequest, WatchJobsResponse } from "@jobworker/proto";
import type { JobClient } from "./connection/client.js";
import type { Reconnector } from "./connection/reconnect.js";

/**
 * Every response of WatchJobs until `signal` aborts or `handle` returns false.
 * When the server goes away, `reconnector` paces new attempts, each resuming
 * after the last response handled (its epoch and revision): a server that
 * kept running sends nothing twice and loses nothing; a restarted one sends a
 * fresh snapshot, marked reset.
 */
export async function watchJobsResumably(
  client: JobClient,
  filter: Pick<WatchJobsRequest, "state" | "owner" | "labelSelector">,
  signal: AbortSignal,
  reconnector: Reconnector,
  handle: (response: WatchJobsResponse) => boolean | Promise<boolean>,
): Promise<void> {
  let resume: { serverEpoch: string; afterRevision: bigint } | undefined;
  for (;;) {
    try {
      for await (const response of client.watchJobs({ ...filter, ...resume }, { signal })) {
        reconnector.progressed();
        resume = { serverEpoch: response.serverEpoch, afterRevision: response.revision };
        if (!(await handle(response))) return;
      }
      return;
    } catch (error) {
      if (signal.aborted) return;
      await reconnector.backOff(error);
      if (signal.aborted) return;
    }
  }
}
