import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { Compression } from "@connectrpc/connect/protocol";
import { compressionGzip } from "@connectrpc/connect-node";

/** Request encodings the server decompresses, on every protocol. The inflated size still counts against the body cap. */
export const ACCEPTED_COMPRESSION: Compression[] = [compressionGzip];

/**
 * Responses are never compressed, whatever a client accepts. Output that does
 * not shrink (binary, already compressed) would stream at a third of the speed;
 * text shrinks, but gzip runs only about as fast as the server streams, so it
 * gains little on a fast link (the output benchmark's compression rows); and
 * either way it spends server CPU on every byte a job writes. No message is
 * this large, so none is compressed.
 */
export const COMPRESS_MIN_BYTES = Number.MAX_SAFE_INTEGER;

type Handler = (request: IncomingMessage | Http2ServerRequest, response: ServerResponse | Http2ServerResponse) => void;

/**
 * Wraps the API handler so every response (errors too) names the request
 * encodings the server accepts, in the header its protocol reads: gRPC asks
 * for `grpc-accept-encoding`, Connect streams read `connect-accept-encoding`,
 * Connect unary calls `accept-encoding`.
 */
export function advertiseCompression(handler: Handler): Handler {
  const accepted = ACCEPTED_COMPRESSION.map((c) => c.name).join(",");
  return (request, response) => {
    const type = request.headers["content-type"] ?? "";
    const header = type.startsWith("application/grpc")
      ? "grpc-accept-encoding"
      : type.startsWith("application/connect+")
        ? "connect-accept-encoding"
        : "accept-encoding";
    response.setHeader(header, accepted);
    handler(request, response);
  };
}
