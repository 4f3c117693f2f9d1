import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { JobService, StartJobRequestSchema } from "@jobworker/proto";
import {
  idleConnections,
  type JobClient,
  metricValue,
  ServerProcess,
  stalledFollowers,
  within,
} from "@jobworker/testkit";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launcherPids, mountsMentioning } from "./host.js";
import { report } from "./report.js";
import { SCALE } from "./scale.js";

const needsRoot = process.getuid?.() !== 0;
const RPCS = JobService.methods.map((method) => ({
  path: `/jobworker.v1.JobService/${method.name}`,
  // Connect frames every streaming kind (server, client, bidi) in envelopes.
  streaming: method.methodKind !== "unary",
}));
/**
 * Each request's deadline, enforced by the server: a body that decodes to a
 * valid watch (WatchJobs, WatchUsage) or attach would otherwise stream for
 * ever. DEADLINE_EXCEEDED is an answer like any other here.
 */
const DEADLINE_MS = 300;
const PROTOCOLS = ["connect-proto", "connect-json", "grpc"] as const;
type Protocol = (typeof PROTOCOLS)[number];

/** What the server answered to one raw request, reduced to what the fuzz checks. */
interface Answer {
  code: string;
}

describe.skipIf(needsRoot)("hostile input (needs root: real jobs)", () => {
  let server: ServerProcess;
  let client: JobClient;
  let session: http2.ClientHttp2Session;

  beforeAll(async () => {
    server = await ServerProcess.start();
    client = await server.client();
    const [ca, cert, key] = await Promise.all(
      ["ca.crt", "alice.crt", "alice.key"].map((f) => readFile(join(server.certs, f))),
    );
    session = http2.connect(`https://localhost:${server.port}`, { ca, cert, key });
  });

  afterAll(async () => {
    session.destroy();
    await server.dispose();
  });

  /** Sends one raw request body to an RPC in a protocol, and reads the status code the server gives. */
  function send(rpc: (typeof RPCS)[number], protocol: Protocol, body: Uint8Array): Promise<Answer> {
    const grpc = protocol === "grpc";
    const enveloped = grpc || rpc.streaming;
    const contentType = grpc
      ? "application/grpc"
      : `application/${rpc.streaming ? "connect+" : ""}${protocol === "connect-json" ? "json" : "proto"}`;
    const payload = enveloped ? Buffer.concat([envelopeHeader(body.length), body]) : body;
    return new Promise((resolve, reject) => {
      const stream = session.request({
        ":method": "POST",
        ":path": rpc.path,
        "content-type": contentType,
        ...(grpc
          ? { te: "trailers", "grpc-timeout": `${DEADLINE_MS}m` }
          : { "connect-timeout-ms": String(DEADLINE_MS) }),
      });
      let status = 0;
      let text = "";
      let grpcStatus = "";
      stream.on("response", (headers) => {
        status = Number(headers[":status"]);
        grpcStatus = String(headers["grpc-status"] ?? "");
      });
      stream.on("trailers", (trailers) => {
        grpcStatus = String(trailers["grpc-status"] ?? grpcStatus);
      });
      stream.on("data", (data: Buffer) => {
        if (text.length < 4096) text += data.toString("latin1");
      });
      stream.on("end", () => {
        const connectCode = /"code":"([a-z_]+)"/.exec(text)?.[1];
        resolve({ code: grpc ? `grpc-${grpcStatus}` : (connectCode ?? `http-${status}`) });
      });
      stream.on("error", reject);
      stream.end(payload);
    });
  }

  const isInternal = (answer: Answer) =>
    answer.code === "internal" || answer.code === "grpc-13" || answer.code === "http-500";

  it("fuzzed and mutated bodies on every RPC over Connect and gRPC: never Internal, never a crash, no leaked process", async () => {
    const valid = toBinary(StartJobRequestSchema, create(StartJobRequestSchema, { command: "/bin/true", args: ["x"] }));
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 256 }),
      fc.json().map((json) => new TextEncoder().encode(json)),
      fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }).map((flips) => {
        const mutated = Uint8Array.from(valid);
        for (const [at, value] of flips) mutated[at] = value;
        return mutated;
      }),
    );
    const counts = new Map<string, number>();
    const property = fc.asyncProperty(
      fc.constantFrom(...RPCS),
      fc.constantFrom(...PROTOCOLS),
      body,
      async (rpc, protocol, bytes) => {
        const answer = await send(rpc, protocol, bytes);
        counts.set(answer.code, (counts.get(answer.code) ?? 0) + 1);
        return !isInternal(answer);
      },
    );
    await fc.assert(property, { seed: 20261128, numRuns: 300 });
    const fixedRuns = [...counts.values()].reduce((a, b) => a + b, 0);
    await fc.assert(property, {
      numRuns: 1_000_000,
      interruptAfterTimeLimit: SCALE.fuzzSeconds * 1000,
      markInterruptAsFailure: false,
    });
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    expect(server.child.exitCode).toBeNull();
    expect((await fetch(`http://127.0.0.1:${server.metricsPort}/healthz`)).status).toBe(200);
    await client.cleanJobs({});
    expect(await launcherPids()).toEqual([]);
    report(
      "fuzzing every RPC: random bytes, random JSON and mutated valid messages over Connect (proto and JSON) and gRPC",
      "never Internal for a client mistake, the server never crashes, no process leaks",
      `${fixedRuns} requests with a fixed seed + ${total - fixedRuns} random in ${SCALE.fuzzSeconds} s; answers: ${[...counts].map(([code, n]) => `${code} ${n}`).join(", ")}; 0 Internal, server healthy, 0 launchers left`,
    );
  });

  it("a job that tries to escape fails at every attempt, and the host is unaffected", async () => {
    let connections = 0;
    const host: Server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => host.listen(0, "127.0.0.1", resolve));
    const hostPort = (host.address() as AddressInfo).port;
    const sentinel: ChildProcess = spawn("sleep", ["1000"], { stdio: "ignore" });
    const mountsBefore = await mountsMentioning("");
    const victim = (
      await client.startJob({
        command: "/bin/sh",
        args: ["-c", "echo secret > ./secret; chmod 644 secret; echo ready; exec sleep 1000"],
      })
    ).job!;
    for await (const _chunk of client.streamOutput({ id: victim.id, follow: true })) break;
    const attempts: [name: string, script: string][] = [
      ["signal every process it can see (kill -9 -1)", "kill -9 -1 2>/dev/null; echo done"],
      ["read the host's /proc/1/environ", "cat /proc/1/environ 2>/dev/null | head -c 1 | wc -c"],
      [
        "write a host file",
        "touch /etc/jobworker-escape /var/tmp/jobworker-escape 2>/dev/null && echo wrote || echo refused",
      ],
      ["write its cgroup", "(echo 1 > /sys/fs/cgroup/cgroup.kill) 2>/dev/null && echo wrote || echo refused"],
      ["create a user namespace", "unshare -Ur true 2>/dev/null && echo created || echo refused"],
      ["mount", "mount -t tmpfs x /tmp 2>/dev/null && echo mounted || echo refused"],
      [
        "connect to a server on the host",
        `bash -c 'echo > /dev/tcp/127.0.0.1/${hostPort}' 2>/dev/null && echo reached || echo refused`,
      ],
      [
        "connect to the jobworker API",
        `bash -c 'echo > /dev/tcp/127.0.0.1/${server.port}' 2>/dev/null && echo reached || echo refused`,
      ],
      ["exhaust file descriptors", "ulimit -n; ulimit -n 100000 2>/dev/null && echo raised || echo capped"],
      ["fill /tmp past --disk 64MiB", "dd if=/dev/zero of=/tmp/fill bs=1M count=200 2>&1 | grep -c 'No space left'"],
      [
        "read another job's files",
        `cat /work/secret ${join(server.stateDir, "jobs", victim.id, "output.log")} 2>/dev/null || echo refused`,
      ],
      ["open a host device", "(exec 3<>/dev/fuse) 2>/dev/null && echo opened || echo refused"],
    ];
    const results: string[] = [];
    for (const [name, script] of attempts) {
      const { job } = await client.startJob({
        command: "/bin/sh",
        args: ["-c", script],
        limits: { diskBytes: BigInt(64 * 2 ** 20) },
      });
      await client.waitJob({ id: job!.id });
      const parts: Uint8Array[] = [];
      for await (const chunk of client.streamOutput({ id: job!.id })) parts.push(chunk.data);
      results.push(`${name}: ${Buffer.concat(parts).toString().trim().replaceAll("\n", " ")}`);
    }
    expect(results).toEqual([
      "signal every process it can see (kill -9 -1): done",
      "read the host's /proc/1/environ: 0",
      "write a host file: refused",
      "write its cgroup: refused",
      "create a user namespace: refused",
      "mount: refused",
      "connect to a server on the host: refused",
      "connect to the jobworker API: refused",
      "exhaust file descriptors: 4096 capped",
      "fill /tmp past --disk 64MiB: 1",
      "read another job's files: refused",
      "open a host device: refused",
    ]);
    expect(connections).toBe(0);
    expect(sentinel.exitCode).toBeNull();
    expect((await client.getJob({ id: victim.id })).job?.endReason).toBe(0);
    expect(await mountsMentioning("")).toEqual(mountsBefore);
    sentinel.kill();
    host.close();
    await client.cleanJobs({});
    report(
      `a job trying to escape: ${attempts.length} attempts (signals, host /proc, host files, its cgroup, user namespace, mount, sockets to the host and the API, fds, /tmp, another job's files, a host device)`,
      "each attempt fails; no mount appears on the host; a host process, the API and another job are unaffected",
      `all ${attempts.length} refused or contained (fds capped at 4096, /tmp full at its --disk cap, no host device node); 0 connections reached the host; host mount table unchanged`,
    );
  });
});

describe.skipIf(needsRoot)("hostile users: floods, readers that never read, quotas (needs root: real jobs)", () => {
  let server: ServerProcess;

  beforeAll(async () => {
    server = await ServerProcess.start({ args: ["--max-followers-per-owner", String(SCALE.stalledFollowers)] });
  });

  afterAll(() => server.dispose());

  it(`${SCALE.idleConnections} idle connections that never complete a handshake: a real client is served, fds stay bounded`, async () => {
    const client = await server.client();
    const fdsBefore = metricValue(await server.metrics(), "process_open_fds");
    const flood = SCALE.idleConnections;
    const idle = await within(120_000, idleConnections(server.port, flood), `${flood} connections`);
    try {
      // Past the default cap of 1,024, each new connection closes one still in its handshake.
      await within(120_000, idle.closedByServer(flood - 1024 - 200), "the server closing connections past its cap");
      const started = performance.now();
      const { job } = await within(30_000, client.startJob({ command: "/bin/echo", args: ["served"] }), "a start");
      const ended = (await within(30_000, client.waitJob({ id: job!.id }), "a wait")).job!;
      const servedMs = performance.now() - started;
      expect(ended.exitCode).toBe(0);
      const metrics = await server.metrics();
      const fds = metricValue(metrics, "process_open_fds");
      const evicted = Number(/^jobworker_connections_closed_at_cap_total\{how="evicted"\} (\S+)/m.exec(metrics)?.[1]);
      expect(fds).toBeLessThan(fdsBefore + 1024 + 64);
      report(
        `${flood} TCP connections that never complete a TLS handshake (default cap 1,024 connections, 5 s handshake timeout)`,
        "a real client connects, starts and waits for a job meanwhile; the server's fds stay under the cap",
        `client served in ${servedMs.toFixed(0)} ms (a new connection, then StartJob and WaitJob); ${evicted} handshaking connections closed to make room; server fds ${fdsBefore} → ${fds}`,
      );
    } finally {
      idle.destroy();
    }
    await client.cleanJobs({});
  });

  it(`${SCALE.stalledFollowers} followers that never read: bounded memory; one more is RESOURCE_EXHAUSTED; others are served`, async () => {
    const alice = await server.client();
    const bob = await server.client("bob");
    const script = "head -c 8388608 /dev/urandom; echo; exec sleep 1000";
    const { job } = await alice.startJob({ command: "/bin/sh", args: ["-c", script] });
    for await (const chunk of alice.streamOutput({ id: job!.id, follow: true })) if (chunk.data.at(-1) === 10) break;
    const rssBefore = metricValue(await server.metrics(), "process_resident_memory_bytes");
    const stalled = await within(
      120_000,
      stalledFollowers(server, job!.id, SCALE.stalledFollowers),
      `${SCALE.stalledFollowers} stalled followers`,
    );
    try {
      const metrics = await server.metrics();
      const grownMiB = (metricValue(metrics, "process_resident_memory_bytes") - rssBefore) / 2 ** 20;
      expect(metricValue(metrics, "jobworker_open_streams")).toBe(SCALE.stalledFollowers);
      expect(grownMiB).toBeLessThan(256);
      const refused = await (async () => {
        for await (const _chunk of alice.streamOutput({ id: job!.id, follow: true })) return "served";
        return "ended";
      })().catch((error: unknown) => ConnectError.from(error));
      if (!(refused instanceof ConnectError)) throw new Error(`a follower past the quota was ${refused}`);
      expect(refused.code).toBe(Code.ResourceExhausted);
      const { job: bobs } = await bob.startJob({ command: "/bin/echo", args: ["bob is served"] });
      const parts: Uint8Array[] = [];
      for await (const chunk of bob.streamOutput({ id: bobs!.id, follow: true })) parts.push(chunk.data);
      expect(Buffer.concat(parts).toString()).toBe("bob is served\n");
      report(
        `${SCALE.stalledFollowers} StreamOutput calls following a job with 8 MiB of output, whose client never reads`,
        "server memory bounded (HTTP/2 flow control holds each call's next chunk); the server keeps serving",
        `server RSS grew ${grownMiB.toFixed(0)} MiB (${((grownMiB * 1024) / SCALE.stalledFollowers).toFixed(0)} KiB per call)`,
      );
      report(
        `one user at --max-followers-per-owner (${SCALE.stalledFollowers} open calls)`,
        "the next call is RESOURCE_EXHAUSTED with the limit in its message; another user is served",
        `${Code[refused.code]}: ${refused.rawMessage}; bob followed a job to its end`,
      );
    } finally {
      stalled.close();
    }
    await alice.cleanJobs({});
    await bob.cleanJobs({});
  });
});

function envelopeHeader(length: number): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(length, 1);
  return header;
}
