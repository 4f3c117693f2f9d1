import type { JobEvent, WatchJobsRequest } from "@jobworker/proto";
import type { JobClient } from "./connection/client.js";
import type { Reconnector } from "./connection/reconnect.js";

/**
 * Every event of WatchJobs, with its response's server epoch, until `signal`
 * aborts or `handle` returns false. When the server goes away, `reconnector`
 * paces new attempts, each resuming after the last event handled (its epoch
 * and revision): a server that kept running sends nothing twice and loses
 * nothing; a restarted one sends a fresh snapshot, marked reset.
 */
export async function watchJobsResumably(
  client: JobClient,
  filter: Pick<WatchJobsRequest, "state" | "owner" | "labelSelector">,
  signal: AbortSignal,
  reconnector: Reconnector,
  handle: (event: JobEvent, serverEpoch: string) => boolean | Promise<boolean>,
): Promise<void> {
  let resume: { serverEpoch: string; afterRevision: bigint } | undefined;
  for (;;) {
    try {
      for await (const response of client.watchJobs({ ...filter, ...resume }, { signal })) {
        reconnector.progressed();
        for (const event of response.events) {
          resume = { serverEpoch: response.serverEpoch, afterRevision: event.revision };
          if (!(await handle(event, response.serverEpoch))) return;
        }
      }
      return;
    } catch (error) {
      if (signal.aborted) return;
      await reconnector.backOff(error);
      if (signal.aborted) return;
    }
  }
}
