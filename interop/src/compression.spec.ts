// Compression on the wire, seen with raw HTTP/2: what the server advertises,
// that it inflates gzip requests on every protocol, and that it answers uncompressed.
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { GetJobRequestSchema, StreamOutputRequestSchema } from "@jobworker/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InteropServer, startInteropServer } from "./interop-server.js";
import { envelope, rawCall } from "./raw-http2.js";

const COMPRESSED_FLAG = 0x01;
const TRAILER_FLAG = 0x80;
const END_STREAM_FLAG = 0x02;

let server: InteropServer;
let job: string;
beforeAll(async () => {
  server = await startInteropServer();
  const client = await server.process.client("alice");
  // 64 KiB of very compressible output: a server that compressed anything would compress this.
  job = (await client.startJob({ command: "/bin/sh", args: ["-c", "yes jobworker | head -c 65536"] })).job!.id;
  await client.waitJob({ id: job });
});
afterAll(async () => {
  await server?.dispose();
});

const call = (method: string, headers: Record<string, string>, body: Buffer) =>
  rawCall(server.process.port, server.process.certs, "alice", { method, headers, body });
const streamRequest = () =>
  Buffer.from(toBinary(StreamOutputRequestSchema, create(StreamOutputRequestSchema, { id: job })));
const getRequest = () => Buffer.from(toBinary(GetJobRequestSchema, create(GetJobRequestSchema, { id: job })));

describe("gzip", () => {
  it("a gRPC call with a gzip request is answered, uncompressed, and names gzip in grpc-accept-encoding", async () => {
    const response = await call(
      "StreamOutput",
      { "content-type": "application/grpc", te: "trailers", "grpc-encoding": "gzip", "grpc-accept-encoding": "gzip" },
      envelope(gzipSync(streamRequest()), COMPRESSED_FLAG),
    );
    expect(response.trailers["grpc-status"]).toBe("0");
    expect(response.headers["grpc-accept-encoding"]).toBe("gzip");
    const messages = response.envelopes;
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.every((m) => (m.flags & COMPRESSED_FLAG) === 0)).toBe(true);
    expect(messages.reduce((n, m) => n + m.data.length, 0)).toBeGreaterThan(65_536);
  });

  it("a gRPC-Web call with a gzip request is answered uncompressed", async () => {
    const response = await call(
      "StreamOutput",
      { "content-type": "application/grpc-web+proto", "grpc-encoding": "gzip", "grpc-accept-encoding": "gzip" },
      envelope(gzipSync(streamRequest()), COMPRESSED_FLAG),
    );
    expect(response.headers["grpc-accept-encoding"]).toBe("gzip");
    const trailer = response.envelopes.find((e) => e.flags & TRAILER_FLAG);
    expect(trailer?.data.toString()).toMatch(/^grpc-status: ?0\r?$/m);
    expect(response.envelopes.every((m) => (m.flags & COMPRESSED_FLAG) === 0)).toBe(true);
  });

  it("a Connect stream with a gzip request is answered uncompressed and names gzip in connect-accept-encoding", async () => {
    const response = await call(
      "StreamOutput",
      {
        "content-type": "application/connect+proto",
        "connect-protocol-version": "1",
        "connect-content-encoding": "gzip",
        "connect-accept-encoding": "gzip",
      },
      envelope(gzipSync(streamRequest()), COMPRESSED_FLAG),
    );
    expect(response.headers["connect-accept-encoding"]).toBe("gzip");
    const end = response.envelopes.find((e) => e.flags & END_STREAM_FLAG);
    expect(JSON.parse(end?.data.toString() ?? "null")).toEqual({});
    expect(response.envelopes.every((m) => (m.flags & COMPRESSED_FLAG) === 0)).toBe(true);
  });

  it("a Connect unary call with a gzip body is answered without content-encoding and names gzip in accept-encoding", async () => {
    const response = await call(
      "GetJob",
      {
        "content-type": "application/proto",
        "connect-protocol-version": "1",
        "content-encoding": "gzip",
        "accept-encoding": "gzip",
      },
      gzipSync(getRequest()),
    );
    expect(response.headers[":status"]).toBe(200);
    expect(response.headers["content-encoding"]).toBeUndefined();
    expect(response.headers["accept-encoding"]).toBe("gzip");
  });

  it("an encoding the server does not know is UNIMPLEMENTED, naming gzip as the one it accepts", async () => {
    const response = await call(
      "GetJob",
      { "content-type": "application/grpc", te: "trailers", "grpc-encoding": "snappy" },
      envelope(getRequest(), COMPRESSED_FLAG),
    );
    expect(response.trailers["grpc-status"] ?? response.headers["grpc-status"]).toBe("12");
    expect(response.headers["grpc-accept-encoding"]).toBe("gzip");
  });
});
