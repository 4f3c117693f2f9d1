import { once } from "node:events";
import { rm } from "node:fs/promises";
import * as http2 from "node:http2";
import { connect as tcpConnect } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { within } from "@jobworker/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerConfig } from "../config.js";
import type { JobServer } from "../job-server.js";
import {
  clientFor,
  createTestPki,
  disposeTestServer,
  type JobClient,
  type ServedTestServer,
  startServedTestServer,
  startTestServer,
  type TestPki,
} from "../testing/test-server.js";

const needsRoot = process.getuid?.() !== 0;

/** Follows a job's output until the first chunk, then keeps the stream open until `signal` aborts. */
async function holdStream(client: JobClient, id: string, signal: AbortSignal): Promise<() => Promise<Code | "ok">> {
  const iterator = client.streamOutput({ id, follow: true }, { signal })[Symbol.asyncIterator]();
  await iterator.next();
  return async () => {
    try {
      while (!(await iterator.next()).done) {}
      return "ok";
    } catch (error) {
      return ConnectError.from(error).code;
    }
  };
}

describe.skipIf(needsRoot)("connection and stream limits (needs root: real jobs)", () => {
  let served: ServedTestServer;
  let pki: TestPki;
  let server: JobServer;
  let alice: JobClient;
  let bob: JobClient;
  let sleeper: string;

  beforeAll(async () => {
    served = await startServedTestServer([
      ...["--handshake-timeout-seconds", "1"],
      ...["--max-streams-per-connection", "2"],
      ...["--max-followers-per-owner", "2"],
    ]);
    ({ pki, server, alice, bob } = served);
    sleeper = (await alice.startJob({ command: "sh", args: ["-c", "echo ready; exec sleep 1000"] })).job?.id ?? "";
  });

  afterAll(() => served.dispose());

  it("a connection that never starts its TLS handshake is closed after --handshake-timeout-seconds", async () => {
    const socket = tcpConnect(server.address.port, "127.0.0.1");
    await once(socket, "connect");
    const started = performance.now();
    await within(10_000, once(socket, "close"), "the server closing a silent connection");
    expect(performance.now() - started).toBeGreaterThan(900);
  });

  it("a caller at --max-followers-per-owner gets RESOURCE_EXHAUSTED naming the limit; other callers are served", async () => {
    const bobsJob = (await bob.startJob({ command: "sh", args: ["-c", "echo ready; exec sleep 1000"] })).job?.id ?? "";
    const held = new AbortController();
    // One connection each: the quota is per caller, whatever connections the calls come on.
    const aliceOn = () => clientFor(server, pki, pki.clients.alice);
    const streams = await Promise.all([
      holdStream(aliceOn(), sleeper, held.signal),
      holdStream(aliceOn(), sleeper, held.signal),
    ]);
    const refused = await holdStream(aliceOn(), sleeper, held.signal).catch((error: unknown) =>
      ConnectError.from(error),
    );
    expect(refused).toBeInstanceOf(ConnectError);
    expect(refused).toMatchObject({ code: Code.ResourceExhausted });
    expect(String(refused)).toContain("--max-followers-per-owner 2");
    // Another caller, and the same caller's other calls, are served meanwhile.
    const bobs = await holdStream(bob, bobsJob, held.signal);
    expect((await alice.getJob({ id: sleeper })).job?.id).toBe(sleeper);
    held.abort();
    expect(await Promise.all([...streams, bobs].map((finish) => finish()))).toEqual([
      Code.Canceled,
      Code.Canceled,
      Code.Canceled,
    ]);
    await server.streams.idle();
    // Once a stream is closed, the caller may open another.
    const again = new AbortController();
    const reopened = await holdStream(alice, sleeper, again.signal);
    again.abort();
    expect(await reopened()).toBe(Code.Canceled);
    await bob.stopJob({ id: bobsJob, gracePeriod: { seconds: 0n, nanos: 0 } });
  });

  it("an HTTP/2 connection gets --max-streams-per-connection as its concurrent stream limit: a call beyond it waits", async () => {
    const session = http2.connect(`https://localhost:${server.address.port}`, {
      ca: pki.ca.cert,
      cert: pki.clients.admin.cert,
      key: pki.clients.admin.key,
    });
    try {
      await within(10_000, once(session, "remoteSettings"), "the server's SETTINGS");
      expect(session.remoteSettings.maxConcurrentStreams).toBe(2);
      const call = (path: string) =>
        session.request({
          ":method": "POST",
          ":path": `/jobworker.v1.JobService/${path}`,
          "content-type": "application/connect+json",
        });
      // Two follow streams fill the connection...
      const other = (await alice.startJob({ command: "sh", args: ["-c", "echo ready; exec sleep 1000"] })).job?.id;
      const follows = [call("StreamOutput"), call("StreamOutput")];
      follows[0]?.end(envelope({ id: other, follow: true }));
      follows[1]?.end(envelope({ id: sleeper, follow: true }));
      await Promise.all(follows.map((stream) => within(10_000, once(stream, "data"), "a follower's first chunk")));
      // ...so a third call on it is not sent until one of them ends,
      let answered = false;
      const third = call("GetJob");
      third.on("response", () => {
        answered = true;
      });
      third.end(envelope({ id: sleeper }));
      // while calls on other connections are served at once.
      for (let i = 0; i < 5; i++) await alice.getJob({ id: sleeper });
      expect(answered).toBe(false);
      // (Ended by the server, as when its job ends: a stream the client resets is freed on the
      // server a moment later, and a call sent in that moment is refused.)
      await alice.stopJob({ id: other, gracePeriod: { seconds: 0n, nanos: 0 } });
      await within(10_000, once(third, "response"), "the third call's answer once a stream ended");
    } finally {
      session.destroy();
    }
  });
});

describe.skipIf(needsRoot)("the connection cap when every connection is authenticated (needs root)", () => {
  let pki: TestPki;
  let server: JobServer;
  let config: ServerConfig;

  beforeAll(async () => {
    pki = await createTestPki();
    ({ server, config } = await startTestServer(pki, undefined, ["--max-connections", "2"]));
  });

  afterAll(async () => {
    await disposeTestServer(server, config);
    await rm(pki.dir, { recursive: true, force: true });
  });

  it("a connection past --max-connections is closed at once; the open ones keep being served", async () => {
    const connect = () =>
      http2.connect(`https://localhost:${server.address.port}`, {
        ca: pki.ca.cert,
        cert: pki.clients.alice.cert,
        key: pki.clients.alice.key,
      });
    const held = [connect(), connect()];
    await Promise.all(held.map((session) => within(10_000, once(session, "remoteSettings"), "a handshake")));
    const third = connect();
    // Its TLS handshake fails: the server closed the socket before answering.
    const failed = new Promise<Error>((resolve) => third.once("error", resolve));
    await within(10_000, new Promise((resolve) => third.once("close", resolve)), "the third connection closing");
    expect(String(await failed)).toMatch(/socket disconnected before secure TLS connection/);
    const metrics = await (await fetch(`http://127.0.0.1:${server.metricsAddress?.port}/metrics`)).text();
    expect(metrics).toMatch(/^jobworker_connections_closed_at_cap_total\{how="refused"\} 1$/m);
    // The two held connections are still served.
    for (const session of held) {
      const stream = session.request({
        ":method": "POST",
        ":path": "/jobworker.v1.JobService/ListJobs",
        "content-type": "application/json",
      });
      stream.end("{}");
      const [headers] = await within(10_000, once(stream, "response"), "an answer on a held connection");
      expect(headers[":status"]).toBe(200);
      stream.resume();
      await within(10_000, once(stream, "end"), "the answer's end");
      session.close();
      await within(10_000, once(session, "close"), "a held connection closing");
    }
  });
});

/** A Connect streaming request body: one enveloped JSON message. */
function envelope(message: object): Buffer {
  const body = Buffer.from(JSON.stringify(message));
  const header = Buffer.alloc(5);
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}
