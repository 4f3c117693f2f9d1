// gRPC unary calls framed every way a client can get them wrong, seen with raw
// HTTP/2: the server answers unary calls without the streaming pipeline, and
// must give the verdicts that pipeline gives, in the trailers, every time.
import { gzipSync } from "node:zlib";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { GetJobRequestSchema, GetJobResponseSchema } from "@jobworker/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InteropServer, startInteropServer } from "./interop-server.js";
import { envelope, rawCall } from "./raw-http2.js";

const COMPRESSED_FLAG = 0x01;
const GRPC = { "content-type": "application/grpc", te: "trailers" };
/** The server's cap on a request message (MAX_REQUEST_BYTES in apps/server/src/job-server.ts). */
const MAX_REQUEST_BYTES = 2 * 1024 * 1024;

let server: InteropServer;
let job: string;
beforeAll(async () => {
  server = await startInteropServer();
  const client = await server.process.client("alice");
  job = (await client.startJob({ command: "/bin/true" })).job!.id;
  await client.waitJob({ id: job });
});
afterAll(async () => {
  await server?.dispose();
});

const getJob = (headers: Record<string, string>, body: Buffer) =>
  rawCall(server.process.port, server.process.certs, "alice", {
    method: "GetJob",
    headers: { ...GRPC, ...headers },
    body,
  });
const request = () => Buffer.from(toBinary(GetJobRequestSchema, create(GetJobRequestSchema, { id: job })));

describe("gRPC unary framing", () => {
  it("answers one message with one message, status OK in the trailers", async () => {
    const response = await getJob({}, envelope(request()));
    expect(response.trailers["grpc-status"]).toBe("0");
    expect(response.headers["content-type"]).toBe("application/grpc+proto");
    expect(response.envelopes).toHaveLength(1);
    expect(fromBinary(GetJobResponseSchema, response.envelopes[0]!.data).job?.id).toBe(job);
  });

  it("answers a message split over many DATA frames, and one that is gzipped", async () => {
    const split = await rawCallInPieces(envelope(request()));
    expect(split.trailers["grpc-status"]).toBe("0");
    const gzipped = await getJob({ "grpc-encoding": "gzip" }, envelope(gzipSync(request()), COMPRESSED_FLAG));
    expect(gzipped.trailers["grpc-status"]).toBe("0");
    expect(fromBinary(GetJobResponseSchema, gzipped.envelopes[0]!.data).job?.id).toBe(job);
  });

  it.each([
    ["no message at all", () => Buffer.alloc(0), "12", /missing input message/],
    ["two messages", () => Buffer.concat([envelope(request()), envelope(request())]), "12", /extra input message/],
    ["a message cut short", () => envelope(request()).subarray(0, 7), "3", /incomplete envelope/],
    [
      "a compressed message without grpc-encoding",
      () => envelope(gzipSync(request()), COMPRESSED_FLAG),
      "13",
      /compressed/,
    ],
    ["bytes that are no GetJobRequest", () => envelope(Buffer.from([0xff, 0xff, 0xff])), "3", /./],
    ["a message over the server's cap", () => envelope(Buffer.alloc(MAX_REQUEST_BYTES + 1)), "8", /./],
  ])("refuses %s with the code the streaming path gives, and no message", async (_what, body, status, message) => {
    const response = await getJob({}, body());
    expect(response.trailers["grpc-status"]).toBe(status);
    expect(decodeURIComponent(String(response.trailers["grpc-message"]))).toMatch(message);
    expect(response.envelopes).toEqual([]);
  });

  it("keeps serving after every one of those", async () => {
    expect((await getJob({}, envelope(request()))).trailers["grpc-status"]).toBe("0");
  });
});

/** A GetJob whose request goes out one byte per DATA frame. */
async function rawCallInPieces(body: Buffer) {
  const pieces = [...body].map((byte) => Buffer.from([byte]));
  return rawCall(server.process.port, server.process.certs, "alice", {
    method: "GetJob",
    headers: GRPC,
    body: Buffer.alloc(0),
    pieces,
  });
}
