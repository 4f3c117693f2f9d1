import { JOB_STATES, type JobManager } from "@jobworker/core";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { ConnectionLimiter } from "./limits/connection-limiter.js";
import type { StreamTracker } from "./limits/stream-tracker.js";

/** The server's Prometheus metrics, in a registry of their own. */
export interface Metrics {
  registry: Registry;
  starts: Counter;
  stops: Counter;
  rpcDuration: Histogram<"rpc" | "code">;
  /** Time StartJob takes to have the job's program running. */
  startLatency: Histogram;
  /** Run time of ended jobs, from start to end, by how they ended. */
  jobDuration: Histogram<"end_reason">;
}

/** Creates the metrics; job counts by state and OOM kills are read from the manager at scrape time. */
export function createMetrics(
  manager: () => JobManager | undefined,
  streams: StreamTracker,
  connections: ConnectionLimiter,
): Metrics {
  const registry = new Registry();
  // Process and Node.js runtime metrics: memory, heap, fds, event-loop lag.
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: "jobworker_jobs",
    help: "Jobs known to the server, by state.",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const jobs = manager()?.list({ allOwners: true }) ?? [];
      for (const state of JOB_STATES) this.set({ state }, jobs.filter((job) => job.state === state).length);
    },
  });
  new Gauge({
    name: "jobworker_oom_killed_jobs",
    help: "Known jobs that the kernel's OOM killer hit.",
    registers: [registry],
    collect() {
      this.set((manager()?.list({ allOwners: true }) ?? []).filter((job) => job.oomKilled).length);
    },
  });
  new Gauge({
    name: "jobworker_open_streams",
    help: "StreamOutput calls in progress.",
    registers: [registry],
    collect() {
      this.set(streams.count);
    },
  });
  new Gauge({
    name: "jobworker_open_connections",
    help: "API connections open, in their TLS handshake or past it.",
    registers: [registry],
    collect() {
      this.set(connections.open);
    },
  });
  new Counter({
    name: "jobworker_connections_closed_at_cap_total",
    help: "API connections closed at the connection cap: refused, or evicted while still in their TLS handshake.",
    labelNames: ["how"],
    registers: [registry],
    collect() {
      // The limiter keeps the counts; the counter mirrors them at scrape time.
      this.reset();
      this.inc({ how: "refused" }, connections.refused);
      this.inc({ how: "evicted" }, connections.evicted);
    },
  });
  return {
    registry,
    starts: new Counter({ name: "jobworker_job_starts_total", help: "Jobs started.", registers: [registry] }),
    stops: new Counter({ name: "jobworker_job_stops_total", help: "Stop requests served.", registers: [registry] }),
    rpcDuration: new Histogram({
      name: "jobworker_rpc_duration_seconds",
      help: "RPC latency by method and result code.",
      labelNames: ["rpc", "code"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    // A start is a few ms of launcher work; tens of ms means a loaded host, seconds a stuck one.
    startLatency: new Histogram({
      name: "jobworker_job_start_seconds",
      help: "Time from a StartJob request to its job's program running.",
      buckets: [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    // Per-job series would be one per job; a histogram by end reason stays a few dozen series.
    jobDuration: new Histogram({
      name: "jobworker_job_duration_seconds",
      help: "Run time of ended jobs, from start to end, by end reason.",
      labelNames: ["end_reason"],
      buckets: [0.1, 1, 10, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 7 * 24 * 3600],
      registers: [registry],
    }),
  };
}
