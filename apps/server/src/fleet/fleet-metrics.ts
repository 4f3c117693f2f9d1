import { Gauge, Histogram, type Registry } from "prom-client";

/** The fleet's Prometheus metrics, on the server's registry. */
export interface FleetMetrics {
  /** Time from submission (after any delay) to a server starting the job's first attempt. */
  waitTime: Histogram<"queue">;
}

/** Registers the fleet metrics; queue depth is read from Redis at scrape time through `depth`. */
export function createFleetMetrics(
  registry: Registry,
  depth: () => Promise<Array<{ queue: string; state: string; count: number }>>,
): FleetMetrics {
  new Gauge({
    name: "jobworker_queue_jobs",
    help: "Fleet jobs in each queue this server serves, by BullMQ state (waiting, prioritized, delayed, active).",
    labelNames: ["queue", "state"],
    registers: [registry],
    async collect() {
      this.reset();
      // With Redis away the gauge is left empty rather than failing the whole scrape.
      for (const { queue, state, count } of await depth().catch(() => [])) this.set({ queue, state }, count);
    },
  });
  return {
    waitTime: new Histogram({
      name: "jobworker_queue_wait_seconds",
      help: "Time fleet jobs waited in their queue before a server started their first attempt.",
      labelNames: ["queue"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers: [registry],
    }),
  };
}
