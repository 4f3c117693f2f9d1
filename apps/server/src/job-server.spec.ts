import { createHash } from "node:crypto";
import { connect as http2Connect, type IncomingHttpHeaders } from "node:http2";
import { connect as tlsConnect } from "node:tls";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ERROR_CODE_KEY, GetJobRequestSchema, JobState } from "@jobworker/proto";
import { codeOf } from "@jobworker/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobServer } from "./job-server.js";
import {
  clientFor,
  disposeTestServer,
  type JobClient,
  type ServedTestServer,
  startServedTestServer,
  startTestServer,
  type TestPki,
} from "./testing/test-server.js";

const needsRoot = process.getuid?.() !== 0;
const MISSING_ID = "00000000-0000-4000-8000-000000000000";

/** The stable code a failed call carries in its metadata, as any client reads it. */
async function errorCodeOf(call: Promise<unknown>): Promise<string | null | "ok"> {
  try {
    await call;
    return "ok";
  } catch (error) {
    return ConnectError.from(error).metadata.get(ERROR_CODE_KEY);
  }
}

async function collect(client: JobClient, id: string, follow = true): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of client.streamOutput({ id, follow })) parts.push(chunk.data);
  return Buffer.concat(parts);
}

describe.skipIf(needsRoot)("jobworker-server over mutual TLS (needs root: it runs real jobs)", () => {
  let served: ServedTestServer;
  let pki: TestPki;
  let server: JobServer;
  let alice: JobClient;
  let bob: JobClient;
  let admin: JobClient;

  beforeAll(async () => {
    served = await startServedTestServer(["--max-jobs", "60", "--max-pids", "4096"]);
    ({ pki, server, alice, bob, admin } = served);
  });
  afterAll(() => served.dispose());

  it("serves every RPC's happy path", async () => {
    const { job } = await alice.startJob({ command: "sh", args: ["-c", "echo hi; exit 4"], env: { A: "1" } });
    expect(job).toMatchObject({ owner: "alice", command: "sh", state: JobState.RUNNING });
    const id = job?.id ?? "";
    const waited = (await alice.waitJob({ id })).job;
    expect(waited).toMatchObject({ state: JobState.ENDED, exitCode: 4, outputBytes: 3n });
    expect((await alice.getJob({ id })).job?.exitCode).toBe(4);
    expect((await alice.listJobs({})).jobs.map((j) => j.id)).toContain(id);
    expect((await alice.listJobs({ state: JobState.RUNNING })).jobs.map((j) => j.id)).not.toContain(id);
    expect((await collect(alice, id)).toString()).toBe("hi\n");
    const sleeper = (await alice.startJob({ command: "sleep", args: ["1000"] })).job?.id ?? "";
    const stopped = (await alice.stopJob({ id: sleeper, gracePeriod: { seconds: 1n, nanos: 0 } })).job;
    expect(stopped).toMatchObject({ state: JobState.ENDED, signal: 15 });
    await alice.deleteJob({ id });
    expect(await codeOf(alice.getJob({ id }))).toBe(Code.NotFound);
    expect((await alice.cleanJobs({})).deletedCount).toBe(1);
  });

  describe("authorization matrix", () => {
    const refusedInHandshake = ["otherCa", "expired", "none"] as const;
    const permissionDenied = ["noUnit", "twoUnits", "capitalAdmin"] as const;

    it.each(permissionDenied)(
      "a verified certificate with a bad OU (%s) gets PermissionDenied on every RPC",
      async (name) => {
        const client = clientFor(server, pki, pki.clients[name]);
        const calls = [
          client.startJob({ command: "true" }),
          client.getJob({ id: MISSING_ID }),
          client.stopJob({ id: MISSING_ID }),
          client.waitJob({ id: MISSING_ID }),
          client.listJobs({}),
          client.deleteJob({ id: MISSING_ID }),
          client.cleanJobs({}),
          collect(client, MISSING_ID),
        ];
        expect(await Promise.all(calls.map(codeOf))).toEqual(calls.map(() => Code.PermissionDenied));
      },
    );

    it.each(refusedInHandshake)("a client with %s certificate is refused in the TLS handshake", async (name) => {
      const identity = name === "none" ? undefined : pki.clients[name];
      expect(await tryHandshake(server.address.port, pki.ca.cert, pki.clients.alice)).toBe("accepted");
      expect(
        await tryHandshake(server.address.port, pki.ca.cert, { cert: identity?.cert, key: identity?.key }),
      ).toMatch(/^refused/);
      // and through the API, no RPC is reached
      const code = await codeOf(clientFor(server, pki, identity).listJobs({}));
      expect(code).not.toBe("ok");
      expect(code).not.toBe(Code.PermissionDenied);
    });

    it("a TLS 1.2 client is refused in the handshake", async () => {
      const result = await tryHandshake(server.address.port, pki.ca.cert, {
        ...pki.clients.alice,
        maxVersion: "TLSv1.2",
      });
      expect(result).toMatch(/^refused: .*(PROTOCOL_VERSION|protocol version)/i);
    });

    it("the server negotiates TLS 1.3 with an allowed cipher suite", async () => {
      const socket = tlsConnect({
        host: "127.0.0.1",
        port: server.address.port,
        servername: "localhost",
        ca: pki.ca.cert,
        ...pki.clients.alice,
        ALPNProtocols: ["h2"],
      });
      await new Promise((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
      expect(socket.getProtocol()).toBe("TLSv1.3");
      expect(["TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"]).toContain(
        socket.getCipher().standardName,
      );
      socket.destroy();
    });

    it("a user cannot touch another user's job through any RPC: NotFound, as for a missing job", async () => {
      const id = (await alice.startJob({ command: "sleep", args: ["1000"] })).job?.id ?? "";
      expect({
        get: await codeOf(bob.getJob({ id })),
        stop: await codeOf(bob.stopJob({ id })),
        wait: await codeOf(bob.waitJob({ id })),
        stream: await codeOf(collect(bob, id)),
        delete: await codeOf(bob.deleteJob({ id })),
        getMissing: await codeOf(bob.getJob({ id: MISSING_ID })),
      }).toEqual({
        get: Code.NotFound,
        stop: Code.NotFound,
        wait: Code.NotFound,
        stream: Code.NotFound,
        delete: Code.NotFound,
        getMissing: Code.NotFound,
      });
      expect((await bob.listJobs({})).jobs.map((j) => j.id)).not.toContain(id);
      expect(await codeOf(bob.listJobs({ owner: "alice" }))).toBe(Code.PermissionDenied);
      expect(await codeOf(bob.cleanJobs({ allOwners: true }))).toBe(Code.PermissionDenied);
      expect((await bob.cleanJobs({})).deletedCount).toBe(0);
      expect((await alice.getJob({ id })).job?.state).toBe(JobState.RUNNING);
      // an admin sees and stops anyone's job
      expect((await admin.listJobs({ owner: "alice" })).jobs.map((j) => j.id)).toContain(id);
      expect((await admin.stopJob({ id, gracePeriod: { seconds: 0n, nanos: 0 } })).job?.state).toBe(JobState.ENDED);
      expect((await admin.cleanJobs({ allOwners: true })).deletedCount).toBeGreaterThanOrEqual(1);
    });
  });

  describe("bad input gets a clear error with the right code, and the server keeps serving", () => {
    let marker = "";

    beforeAll(async () => {
      marker = (await alice.startJob({ command: "true" })).job?.id ?? "";
    });

    it.each([
      ["a malformed id", () => alice.getJob({ id: "not-a-uuid" }), Code.InvalidArgument],
      ["an uppercase id", () => alice.getJob({ id: "ABCDEF00-0000-4000-8000-000000000000" }), Code.InvalidArgument],
      ["an unknown id", () => alice.getJob({ id: MISSING_ID }), Code.NotFound],
      ["an empty command", () => alice.startJob({ command: "" }), Code.InvalidArgument],
      ["a missing binary", () => alice.startJob({ command: "/no/such/binary" }), Code.InvalidArgument],
      ["a NUL byte", () => alice.startJob({ command: "echo", args: ["a\0b"] }), Code.InvalidArgument],
      ["too many args", () => alice.startJob({ command: "echo", args: Array(5000).fill("x") }), Code.InvalidArgument],
      [
        "an oversized arg",
        () => alice.startJob({ command: "echo", args: ["x".repeat(200_000)] }),
        Code.InvalidArgument,
      ],
      [
        "a limit above the maximum",
        () => alice.startJob({ command: "true", limits: { maxPids: 100_000 } }),
        Code.InvalidArgument,
      ],
      [
        "an absurd limit",
        () => alice.startJob({ command: "true", limits: { memoryBytes: 2n ** 63n } }),
        Code.InvalidArgument,
      ],
      ["a zero limit", () => alice.startJob({ command: "true", limits: { cpuMillicores: 0 } }), Code.InvalidArgument],
      [
        "a negative grace period",
        () => alice.stopJob({ id: MISSING_ID, gracePeriod: { seconds: -1n, nanos: 0 } }),
        Code.InvalidArgument,
      ],
      [
        "a zero max runtime",
        () => alice.startJob({ command: "true", maxRuntime: { seconds: 0n, nanos: 0 } }),
        Code.InvalidArgument,
      ],
      [
        "a request over the size cap",
        () => alice.startJob({ command: "echo", args: Array(40).fill("y".repeat(100_000)) }),
        Code.ResourceExhausted,
      ],
      ["an env name with =", () => alice.startJob({ command: "true", env: { "A=B": "c" } }), Code.InvalidArgument],
    ])("%s", async (_what, call, code) => {
      expect(await codeOf(call())).toBe(code);
      // Still serving, and a refused start left no job behind: alice's only job is the one started before.
      expect((await alice.listJobs({})).jobs.map((job) => job.id)).toEqual([marker]);
    });

    it("stopping an ended job is FailedPrecondition; deleting a running one too", async () => {
      const done = (await alice.startJob({ command: "true" })).job?.id ?? "";
      await alice.waitJob({ id: done });
      expect(await codeOf(alice.stopJob({ id: done }))).toBe(Code.FailedPrecondition);
      const running = (await alice.startJob({ command: "sleep", args: ["1000"] })).job?.id ?? "";
      expect(await codeOf(alice.deleteJob({ id: running }))).toBe(Code.FailedPrecondition);
      await alice.cleanJobs({});
    });
  });

  it.each([
    ["gRPC", "grpc", "2"],
    ["Connect over HTTP/1.1", "connect", "1.1"],
    ["gRPC-Web over HTTP/2", "grpc-web", "2"],
  ] as const)(
    "every error carries its stable code in the response metadata over %s",
    async (_name, protocol, httpVersion) => {
      const as = (identity: keyof TestPki["clients"]) =>
        clientFor(server, pki, pki.clients[identity], { protocol, httpVersion });
      const client = as("alice");
      expect({
        missing: await errorCodeOf(client.getJob({ id: MISSING_ID })),
        malformed: await errorCodeOf(client.getJob({ id: "not-a-uuid" })),
        badRequest: await errorCodeOf(client.startJob({ command: "" })),
        missingStream: await errorCodeOf(collect(client, MISSING_ID)),
        noRole: await errorCodeOf(as("noUnit").listJobs({})),
        adminOnly: await errorCodeOf(client.listJobs({ owner: "bob" })),
      }).toEqual({
        missing: "JW_ERR_NOT_FOUND",
        malformed: "JW_ERR_MALFORMED_JOB_ID",
        badRequest: "JW_ERR_INVALID_ARGUMENT",
        missingStream: "JW_ERR_NOT_FOUND",
        noRole: "JW_ERR_NO_ROLE",
        adminOnly: "JW_ERR_ADMIN_ONLY",
      });
      // Refused by the protocol layer before any interceptor runs: no code is sent, and clients
      // take the code of the status (docs/api.md), as runjob does.
      const tooLarge = client.startJob({ command: "echo", args: Array(40).fill("y".repeat(100_000)) });
      expect(await errorCodeOf(tooLarge)).toBeNull();
    },
  );

  it("a plain gRPC client, with no Connect code, reads the code as a trailer", async () => {
    const trailers = await rawGrpcTrailers(server.address.port, pki, "GetJob", {
      message: toBinary(GetJobRequestSchema, create(GetJobRequestSchema, { id: MISSING_ID })),
    });
    expect(trailers).toMatchObject({ "grpc-status": String(Code.NotFound), [ERROR_CODE_KEY]: "JW_ERR_NOT_FOUND" });
  });

  it("a stream cancelled mid-way frees its reader", async () => {
    const id = (await alice.startJob({ command: "sh", args: ["-c", "echo first; sleep 1000"] })).job?.id ?? "";
    const controller = new AbortController();
    const received: string[] = [];
    const ended = (async () => {
      for await (const chunk of alice.streamOutput({ id, follow: true }, { signal: controller.signal })) {
        received.push(Buffer.from(chunk.data).toString());
        controller.abort();
      }
    })();
    expect(await codeOf(ended)).toBe(Code.Canceled);
    expect(received).toEqual(["first\n"]);
    await server.streams.idle();
    expect(await openStreamsMetric(server)).toBe(0);
    await alice.stopJob({ id, gracePeriod: { seconds: 0n, nanos: 0 } });
  }, 30_000);

  it("50 concurrent followers of one job receive identical bytes", async () => {
    const id =
      (
        await alice.startJob({
          command: "sh",
          args: ["-c", "i=0; while [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); done"],
        })
      ).job?.id ?? "";
    const outputs = await Promise.all(Array.from({ length: 50 }, () => collect(alice, id)));
    const hashes = new Set(outputs.map((output) => createHash("sha256").update(output).digest("hex")));
    expect(hashes.size).toBe(1);
    expect(outputs[0]?.toString().split("\n").length).toBe(2001);
  });

  it.each([
    ["Connect over HTTP/1.1", "connect", "1.1"],
    ["Connect over HTTP/2", "connect", "2"],
    ["gRPC-Web over HTTP/1.1", "grpc-web", "1.1"],
    ["gRPC-Web over HTTP/2", "grpc-web", "2"],
  ] as const)("serves %s from the same router", async (_name, protocol, httpVersion) => {
    const client = clientFor(server, pki, pki.clients.alice, { protocol, httpVersion });
    const id = (await client.startJob({ command: "echo", args: [protocol] })).job?.id ?? "";
    expect((await client.waitJob({ id })).job?.exitCode).toBe(0);
    expect((await collect(client, id)).toString()).toBe(`${protocol}\n`);
  });

  it("logs one structured line per RPC and an audit line per start and stop, with the caller from the certificate", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const logged = await startTestServer(pki, undefined, [], logger);
    try {
      const client = clientFor(logged.server, pki, pki.clients.bob);
      const id = (await client.startJob({ command: "sleep", args: ["1000"], env: { TOKEN: "secret-value" } })).job?.id;
      await client.stopJob({ id, gracePeriod: { seconds: 0n, nanos: 0 } });
      await codeOf(client.getJob({ id: MISSING_ID }));
      const rpcs = lines.filter((line) => line.rpc && !line.audit);
      expect(rpcs.map((line) => [line.rpc, line.code, line.caller])).toEqual([
        ["StartJob", "OK", "bob"],
        ["StopJob", "OK", "bob"],
        ["GetJob", "NotFound", "bob"],
      ]);
      for (const line of rpcs) expect(line).toHaveProperty("requestId", expect.stringMatching(/^[0-9a-f-]{36}$/));
      for (const line of rpcs) expect(typeof line.durationMs).toBe("number");
      expect(lines.filter((line) => line.audit).map((line) => [line.audit, line.job, line.caller])).toEqual([
        ["start", id, "bob"],
        ["stop", id, "bob"],
      ]);
      expect(JSON.stringify(lines)).not.toContain("secret-value");
    } finally {
      await disposeTestServer(logged.server, logged.config);
    }
  });

  it("a WaitJob and a follower whose client goes away are logged CANCELED, not as server faults", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const logged = await startTestServer(pki, undefined, [], logger);
    try {
      const client = clientFor(logged.server, pki, pki.clients.bob);
      const id = (await client.startJob({ command: "sh", args: ["-c", "echo ready; exec sleep 1000"] })).job?.id ?? "";
      const leaving = new AbortController();
      const waiting = codeOf(client.waitJob({ id }, { signal: leaving.signal }));
      const following = codeOf(
        (async () => {
          for await (const _chunk of client.streamOutput({ id, follow: true }, { signal: leaving.signal })) {
            leaving.abort();
          }
        })(),
      );
      expect([await waiting, await following]).toEqual([Code.Canceled, Code.Canceled]);
      await client.stopJob({ id, gracePeriod: { seconds: 0n, nanos: 0 } });
      await logged.server.streams.idle();
      const ends = lines.filter((line) => line.rpc === "WaitJob" || line.rpc === "StreamOutput");
      expect(ends.map((line) => [line.rpc, line.code]).sort()).toEqual([
        ["StreamOutput", "Canceled"],
        ["WaitJob", "Canceled"],
      ]);
    } finally {
      await disposeTestServer(logged.server, logged.config);
    }
  });

  it("serves /healthz and Prometheus /metrics on the separate listener", async () => {
    const base = `http://127.0.0.1:${server.metricsAddress?.port}`;
    expect(await (await fetch(`${base}/healthz`)).text()).toBe("ok\n");
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/jobworker_jobs\{state="ended"\} \d+/);
    expect(metrics).toMatch(/jobworker_job_starts_total \d+/);
    expect(metrics).toMatch(/jobworker_rpc_duration_seconds_bucket\{le="0.005",rpc="StartJob",code="OK"\}/);
    expect(metrics).toMatch(/^jobworker_job_start_seconds_count [1-9]/m);
    expect(metrics).toMatch(/^jobworker_job_duration_seconds_count\{end_reason="exited"\} [1-9]/m);
  });

  it("shuts down with a follower and a waiter open: both end UNAVAILABLE (never OK), then a new server re-adopts the running job", async () => {
    const id =
      (await alice.startJob({ command: "sh", args: ["-c", "trap 'exit 42' TERM; echo ready; sleep 1000 & wait"] })).job
        ?.id ?? "";
    // Sent first on the same connection, so the server has it by the time the follower's first chunk arrives.
    const waiting = codeOf(alice.waitJob({ id }));
    let sawFirstChunk: () => void = () => {};
    const firstChunkSeen = new Promise<void>((resolve) => {
      sawFirstChunk = resolve;
    });
    const following = (async () => {
      const parts: Uint8Array[] = [];
      for await (const chunk of alice.streamOutput({ id, follow: true })) {
        parts.push(chunk.data);
        sawFirstChunk();
      }
      return Buffer.concat(parts).toString();
    })().then(
      (output) => ({ output }),
      (error: unknown) => ({ error: ConnectError.from(error).code }),
    );
    await firstChunkSeen;
    expect(server.streams.count).toBe(1);
    await server.close();
    expect(await following).toEqual({ error: Code.Unavailable });
    expect(await waiting).toBe(Code.Unavailable);
    ({ server } = await startTestServer(pki, served.config));
    served.server = server;
    alice = clientFor(server, pki, pki.clients.alice);
    expect((await alice.getJob({ id })).job?.state).toBe(JobState.RUNNING);
    expect((await alice.stopJob({ id })).job).toMatchObject({ state: JobState.ENDED, exitCode: 42 });
  });
});

/**
 * Connects with raw TLS and reports whether the server accepted the client: an
 * accepting server sends its HTTP/2 SETTINGS right after the handshake; a
 * refusing one sends an alert and closes (with TLS 1.3 the client may see the
 * refusal only after its side of the handshake completed).
 */
function tryHandshake(
  port: number,
  ca: string,
  options: { cert?: string; key?: string; maxVersion?: "TLSv1.2" },
): Promise<string> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: "127.0.0.1",
      port,
      servername: "localhost",
      ca,
      ALPNProtocols: ["h2"],
      ...options,
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(`refused: ${error.code} ${error.message}`));
    socket.once("secureConnect", () => socket.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
    socket.once("data", () => {
      socket.destroy();
      resolve("accepted");
    });
    socket.once("close", () => resolve("refused: closed by the server"));
  });
}

/**
 * Calls a JobService method over bare HTTP/2 with the gRPC framing, as any gRPC
 * library would, and returns its trailers (or, for a trailers-only response,
 * the headers that stand in for them).
 */
function rawGrpcTrailers(
  port: number,
  pki: TestPki,
  method: string,
  { message }: { message: Uint8Array },
): Promise<IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(`https://localhost:${port}`, { ca: pki.ca.cert, ...pki.clients.alice });
    session.once("error", reject);
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1); // byte 0: not compressed
    frame.set(message, 5);
    const stream = session.request({
      ":method": "POST",
      ":path": `/jobworker.v1.JobService/${method}`,
      "content-type": "application/grpc",
      te: "trailers",
    });
    let headers: IncomingHttpHeaders = {};
    stream.once("response", (received) => {
      headers = received;
    });
    stream.once("trailers", (trailers) => {
      headers = { ...headers, ...trailers };
    });
    stream.once("close", () => {
      session.close();
      resolve(headers);
    });
    stream.once("error", reject);
    stream.resume();
    stream.end(frame);
  });
}

async function openStreamsMetric(server: JobServer): Promise<number> {
  const metrics = await (await fetch(`http://127.0.0.1:${server.metricsAddress?.port}/metrics`)).text();
  return Number(/^jobworker_open_streams (\d+)/m.exec(metrics)?.[1] ?? Number.NaN);
}
