import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { cpus } from "node:os";
import { createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { defaultJobsCeiling, JobManager, type OwnerQuota } from "@jobworker/core";
import { grpcHealthV1, grpcReflectionV1, grpcReflectionV1alpha, JobService } from "@jobworker/proto";
import type { Logger } from "pino";
import { ACCEPTED_COMPRESSION, advertiseCompression, COMPRESS_MIN_BYTES } from "./api/compression.js";
import { jobService } from "./api/job-service.js";
import { responseStreamKey, responseStreamOf } from "./api/response-stream.js";
import { resolveCgroupParent } from "./cgroup-delegation.js";
import { ConfigError, parseExpose, type ServerConfig } from "./config.js";
import { HealthStatus, healthService } from "./discovery/health.js";
import { reflectionService, reflectionServiceV1alpha } from "./discovery/reflection.js";
import type { Fleet } from "./fleet/fleet.js";
import { withFleetRef } from "./fleet/fleet-service.js";
import { redisOptions } from "./fleet/redis-options.js";
import { shutdownReason } from "./interruption.js";
import { ConnectionLimiter } from "./limits/connection-limiter.js";
import { StreamTracker } from "./limits/stream-tracker.js";
import { jobEndLogger } from "./logging/job-end-log.js";
import { requestLogging } from "./logging/request-log.js";
import { createMetrics } from "./metrics.js";
import { authorize } from "./tls/authorization.js";
import { callerIdentity, connectionSocketOf, identityKey, ON_BEHALF_OF_HEADER } from "./tls/identity.js";
import { TlsReloader } from "./tls/tls-reload.js";

/** How long shutdown waits for calls to end before it cuts the connections they are on. */
const SHUTDOWN_GRACE_MS = 5_000;

/** Largest request body accepted, in bytes. */
export const MAX_REQUEST_BYTES = 2 * 1024 * 1024;

/** A running jobworker server: the API listener, the health/metrics listener and the job manager. */
export interface JobServer {
  manager: JobManager;
  /** Address the API listens on (useful with port 0). */
  address: AddressInfo;
  metricsAddress?: AddressInfo;
  /** StreamOutput calls in progress. */
  streams: StreamTracker;
  /** Reads the TLS files again (SIGHUP); open connections keep theirs. Whether the new ones are in use. */
  reloadTls(reason: string): boolean;
  /** Stops accepting, ends open streams, finishes in-flight calls. Jobs keep running. */
  close(): Promise<void>;
}

/**
 * Starts the health/metrics listener first (/healthz answers 503 while
 * loading), loads state and re-adopts jobs, then starts the API listener.
 */
export async function startJobServer(config: ServerConfig, logger: Logger): Promise<JobServer> {
  let manager: JobManager | undefined;
  const streams = new StreamTracker(config.maxFollowersPerOwner);
  const connections = new ConnectionLimiter(config.maxConnections);
  const metrics = createMetrics(() => manager, streams, connections);
  // Read before anything listens: a server that cannot serve must not look alive.
  const tls = new TlsReloader(config, logger, metrics.registry);
  const metricsServer = config.metricsListen ? createHttpServer() : undefined;
  metricsServer?.on("request", async (request, response) => {
    if (request.url === "/healthz") {
      response.writeHead(manager ? 200 : 503, { "content-type": "text/plain" }).end(manager ? "ok\n" : "loading\n");
    } else if (request.url === "/metrics") {
      response.writeHead(200, { "content-type": metrics.registry.contentType }).end(await metrics.registry.metrics());
    } else {
      response.writeHead(404).end();
    }
  });
  const metricsAddress = metricsServer
    ? await listen(metricsServer, config.metricsListen, "metrics-listen")
    : undefined;
  try {
    const cgroupParent = await resolveCgroupParent(config.cgroupParent);
    // Job ends are logged from before recovery: a job that ended while no server ran is logged too.
    manager = await JobManager.open(
      { ...managerOptions(config), cgroupParent },
      (message) => logger.warn(message),
      jobEndLogger(logger),
    );
  } catch (error) {
    // A half-started server must not keep /healthz open: that would hide the failure from systemd.
    if (metricsServer) await closeServer(metricsServer);
    throw error;
  }
  // Jobs that end while this server runs (re-adopted ones included) count toward the durations.
  const unsubscribe = manager.subscribe((job) => {
    if (job.state === "ended" && job.endReason && job.startedAt !== undefined && job.endedAt !== undefined) {
      metrics.jobDuration.observe({ end_reason: job.endReason }, (job.endedAt - job.startedAt) / 1000);
    }
  });
  const shutdown = new AbortController();
  // Health and reflection share the main port, so probes and grpcurl need nothing else open.
  const served = [JobService, grpcHealthV1.Health, grpcReflectionV1.ServerReflection];
  const health = new HealthStatus([JobService.typeName, grpcHealthV1.Health.typeName]);
  const quotas = { user: userQuota(config), admin: adminQuota(config) };
  // Checked before anything listens: a bad --queue-url is a configuration error.
  const queueConnection = config.queueUrl ? redisOptions(config.queueUrl) : undefined;
  // Set once the API listens (peers must be able to reach it before this server takes fleet jobs).
  let fleet: Fleet | undefined;
  const fleetRef = { get: () => fleet };
  const adapter = connectNodeAdapter({
    routes: (router) =>
      router
        .service(JobService, withFleetRef(jobService(manager, metrics, streams, quotas), manager, streams, fleetRef))
        .service(grpcHealthV1.Health, healthService(health))
        .service(grpcReflectionV1.ServerReflection, reflectionService(served))
        .service(grpcReflectionV1alpha.ServerReflection, reflectionServiceV1alpha(served)),
    interceptors: [requestLogging(logger, metrics, { auditArgs: config.auditArgs }), authorize],
    readMaxBytes: MAX_REQUEST_BYTES,
    // Compressed requests are accepted; responses go uncompressed (compression.ts says why).
    acceptCompression: ACCEPTED_COMPRESSION,
    compressMinBytes: COMPRESS_MIN_BYTES,
    contextValues: (request) =>
      createContextValues()
        .set(identityKey, callerIdentity(connectionSocketOf(request), request.headers[ON_BEHALF_OF_HEADER]))
        .set(responseStreamKey, responseStreamOf(request)),
    shutdownSignal: shutdown.signal,
  });
  const apiServer = createSecureServer(
    {
      ...tls.options,
      allowHTTP1: true,
      // Node's default is 120 s: a client that connects and says nothing would hold its fd that long.
      handshakeTimeout: config.handshakeTimeout * 1000,
      settings: { maxConcurrentStreams: config.maxStreamsPerConnection },
    },
    advertiseCompression(adapter),
  );
  connections.attach(apiServer);
  // Tracked so shutdown can send GOAWAY: in-flight calls finish, idle connections close.
  const sessions = new Set<ServerHttp2Session>();
  apiServer.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  // Small RPC frames must leave at once: Nagle's algorithm plus delayed ACKs would add tens of ms.
  apiServer.on("secureConnection", (socket) => socket.setNoDelay(true));
  apiServer.on("tlsClientError", (error) => logger.info({ reason: error.message }, "TLS handshake refused"));
  const address = await listen(apiServer, config.listen, "listen");
  if (queueConnection) {
    try {
      // Loaded only here: BullMQ and ioredis cost a server that joins no fleet
      // about 160 ms of start-up and 40 MiB of memory.
      const { Fleet } = await import("./fleet/fleet.js");
      fleet = await Fleet.start({
        config,
        manager,
        quotas,
        port: address.port,
        registry: metrics.registry,
        starts: metrics.starts,
        logger,
        connection: queueConnection,
        tls: () => tls.options,
      });
    } catch (error) {
      await Promise.all([closeServer(apiServer), metricsServer ? closeServer(metricsServer) : undefined]);
      await manager.close();
      throw error;
    }
  }
  // Watched once serving: a server that failed to listen leaves no watch behind.
  tls.attach(apiServer);
  logger.info({ listen: address, metrics: metricsAddress, stateDir: config.stateDir }, "jobworker-server ready");

  return {
    manager,
    address,
    metricsAddress,
    streams,
    reloadTls: (reason) => tls.reload(reason),
    async close() {
      tls.close();
      health.stopServing();
      await fleet?.close();
      shutdown.abort(shutdownReason()); // streams and long waits end UNAVAILABLE: clients retry
      const closed = Promise.all([closeServer(apiServer), metricsServer ? closeServer(metricsServer) : undefined]);
      for (const session of sessions) session.close();
      const drained = Promise.all([closed, streams.idle()]);
      // A client that does not read keeps its call's last bytes (and so the call) from ever
      // leaving; after a grace its connection is cut, and shutdown goes on.
      if (!(await settlesWithin(drained, SHUTDOWN_GRACE_MS))) {
        for (const session of sessions) session.destroy();
        connections.destroyAll();
      }
      await drained;
      unsubscribe();
      await manager.close();
    },
  };
}

/** What one user may hold and do at once. */
export function userQuota(config: ServerConfig): OwnerQuota {
  return { maxActiveJobs: config.maxRunningJobsPerOwner, startsPerSecond: config.maxStartsPerSecond };
}

/** What one admin may hold and do at once. */
export function adminQuota(config: ServerConfig): OwnerQuota {
  return {
    maxActiveJobs: config.maxRunningJobsPerAdmin,
    startsPerSecond: config.maxStartsPerSecond,
    maxEndedJobs: config.maxKeptJobsPerAdmin,
  };
}

function managerOptions(config: ServerConfig) {
  const ioBps = config.maxIoBps;
  const ioIops = config.maxIoIops;
  const host = defaultJobsCeiling();
  const jobsCeiling = {
    memoryBytes: config.jobsMemory || host.memoryBytes,
    maxPids: config.jobsMaxPids || host.maxPids,
  };
  return {
    jobsCeiling,
    stateDir: config.stateDir,
    uidRange: { first: config.jobUidFirst, count: config.jobUidCount },
    defaultLimits: {
      cpuMillicores: config.defaultCpu,
      memoryBytes: config.defaultMemory,
      maxPids: config.defaultPids,
      diskBytes: config.defaultDisk,
    },
    maxLimits: {
      cpuMillicores: config.maxCpu || cpus().length * 1000,
      memoryBytes: config.maxMemory || jobsCeiling.memoryBytes,
      maxPids: config.maxPids,
      diskBytes: config.maxDisk,
      ioReadBps: ioBps,
      ioWriteBps: ioBps,
      ioReadIops: ioIops,
      ioWriteIops: ioIops,
    },
    exposedPaths: config.expose.map(parseExpose),
    defaultGraceMs: config.gracePeriodMs,
    maxGraceMs: config.maxGrace,
    defaultQuota: userQuota(config),
    maxEndedJobsPerOwner: config.maxKeptJobsPerOwner,
    retentionMs: config.retention,
    maxOutputBytesTotal: config.maxOutputTotal || undefined,
    outputCapBytes: config.outputCap,
    maxConcurrentJobs: config.maxJobs,
  };
}

/** Listens on the address a setting names; a failure names the setting (another server may hold the port). */
function listen(server: HttpServer | Http2SecureServer, hostPort: string, flag: string): Promise<AddressInfo> {
  const match = /^\[?([^\]]*)\]?:(\d+)$/.exec(hostPort);
  if (!match) throw new ConfigError(`--${flag} ${JSON.stringify(hostPort)} must be host:port`);
  return new Promise((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException) =>
      reject(new ConfigError(`--${flag} ${hostPort}: cannot listen (${error.code ?? error.message})`));
    server.once("error", fail);
    server.listen(Number(match[2]), match[1], () => {
      server.off("error", fail);
      resolve(server.address() as AddressInfo);
    });
  });
}

function closeServer(server: HttpServer | Http2SecureServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    if ("closeIdleConnections" in server) server.closeIdleConnections();
  });
}

/** Whether `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
