// Deadlines as the server enforces them: raw HTTP/2 calls carrying grpc-timeout or
// connect-timeout-ms and no client-side deadline, so only the server decides how they end.
import { create, toBinary } from "@bufbuild/protobuf";
import { StreamOutputRequestSchema, WaitJobRequestSchema } from "@jobworker/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InteropServer, startInteropServer } from "./interop-server.js";
import { envelope, rawCall } from "./raw-http2.js";

const TICKING = { command: "/bin/sh", args: ["-c", "while :; do echo tick; sleep 0.05; done"] };
/** The flag of a gRPC-Web trailers frame and of a Connect end-of-stream message. */
const TRAILER_FLAG = 0x80;
const END_STREAM_FLAG = 0x02;

let server: InteropServer;
let running: string;
beforeAll(async () => {
  server = await startInteropServer();
  running = (await (await server.process.client("alice")).startJob(TICKING)).job!.id;
});
afterAll(async () => {
  await server?.dispose();
});

const follow = () =>
  toBinary(StreamOutputRequestSchema, create(StreamOutputRequestSchema, { id: running, follow: true }));
const wait = () => toBinary(WaitJobRequestSchema, create(WaitJobRequestSchema, { id: running }));
const call = (method: string, headers: Record<string, string>, body: Buffer) =>
  rawCall(server.process.port, server.process.certs, "alice", { method, headers, body });

describe("a deadline that expires while the job runs", () => {
  it.each([
    ["StreamOutput (follow)", "StreamOutput", follow],
    ["WaitJob", "WaitJob", wait],
  ])("ends %s over gRPC with DEADLINE_EXCEEDED, never OK", async (_name, method, message) => {
    const response = await call(
      method,
      { "content-type": "application/grpc", te: "trailers", "grpc-timeout": "300m" },
      envelope(message()),
    );
    expect(response.trailers["grpc-status"]).toBe("4");
    expect(response.trailers["jobworker-error-code"]).toBe("JW_ERR_DEADLINE_EXCEEDED");
    expect(response.elapsedMs).toBeGreaterThanOrEqual(290);
  });

  it("ends a follow over gRPC-Web with DEADLINE_EXCEEDED in its trailers frame", async () => {
    const response = await call(
      "StreamOutput",
      { "content-type": "application/grpc-web+proto", "grpc-timeout": "300m" },
      envelope(follow()),
    );
    const trailerFrame = response.envelopes.find((e) => e.flags & TRAILER_FLAG);
    expect(trailerFrame?.data.toString()).toMatch(/^grpc-status: ?4\r?$/m);
  });

  it("ends a follow over Connect with deadline_exceeded in its end-stream message", async () => {
    const response = await call(
      "StreamOutput",
      { "content-type": "application/connect+proto", "connect-protocol-version": "1", "connect-timeout-ms": "300" },
      envelope(follow()),
    );
    const end = response.envelopes.find((e) => e.flags & END_STREAM_FLAG);
    expect(JSON.parse(end?.data.toString() ?? "{}")).toMatchObject({ error: { code: "deadline_exceeded" } });
  });

  it("ends a WaitJob over Connect with HTTP 504 deadline_exceeded", async () => {
    const response = await call(
      "WaitJob",
      { "content-type": "application/proto", "connect-protocol-version": "1", "connect-timeout-ms": "300" },
      Buffer.from(wait()),
    );
    expect(response.headers[":status"]).toBe(504);
  });
});
