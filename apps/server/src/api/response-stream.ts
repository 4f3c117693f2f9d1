import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest, Http2Stream } from "node:http2";
import { createContextKey } from "@connectrpc/connect";

/**
 * The HTTP/2 stream a call's response goes out on (undefined over HTTP/1.1):
 * StreamOutput asks it which of the frames it handed over have been written,
 * so their buffers can be reused (output-frames.ts).
 */
export const responseStreamKey = createContextKey<Http2Stream | undefined>(undefined, {
  description: "the call's HTTP/2 stream",
});

/** The HTTP/2 stream of a request, as the Node server hands it to the adapter. */
export function responseStreamOf(request: IncomingMessage | Http2ServerRequest): Http2Stream | undefined {
  return "stream" in request ? request.stream : undefined;
}
