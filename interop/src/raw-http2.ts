import { readFile } from "node:fs/promises";
import { connect } from "node:http2";
import { join } from "node:path";

/** One enveloped message of a gRPC, gRPC-Web or Connect stream: its flags byte and its bytes. */
export interface Envelope {
  flags: number;
  data: Buffer;
}

/** What came back for a raw call: the response headers, HTTP trailers and the body's envelopes. */
export interface RawResponse {
  headers: Record<string, unknown>;
  trailers: Record<string, unknown>;
  envelopes: Envelope[];
  elapsedMs: number;
}

export function envelope(message: Uint8Array, flags = 0): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt8(flags, 0);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

function splitEnvelopes(body: Buffer): Envelope[] {
  const envelopes: Envelope[] = [];
  for (let at = 0; at + 5 <= body.length; ) {
    const length = body.readUInt32BE(at + 1);
    envelopes.push({ flags: body.readUInt8(at), data: body.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return envelopes;
}

/**
 * A call made with node:http2 alone, no RPC library on the client side: so
 * what the test sees (a grpc-status trailer, a Connect end-stream message) is
 * the server's own verdict, not a client's deadline or interpretation.
 */
export async function rawCall(
  port: number,
  certs: string,
  identity: string,
  request: {
    method: string;
    headers: Record<string, string>;
    body: Buffer;
    /** Sent before the body, each in a DATA frame of its own: a message split as the network may split it. */
    pieces?: Buffer[];
  },
): Promise<RawResponse> {
  const [ca, cert, key] = await Promise.all(
    ["ca.crt", `${identity}.crt`, `${identity}.key`].map((file) => readFile(join(certs, file))),
  );
  const session = connect(`https://localhost:${port}`, { ca, cert, key });
  try {
    const started = performance.now();
    const stream = session.request({
      ":method": "POST",
      ":path": `/jobworker.v1.JobService/${request.method}`,
      ...request.headers,
    });
    for (const piece of request.pieces ?? []) {
      stream.write(piece);
      // A turn between writes, so that each goes out before the next is queued.
      await new Promise((resolve) => setImmediate(resolve));
    }
    stream.end(request.body);
    let headers: Record<string, unknown> = {};
    let trailers: Record<string, unknown> = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      headers = h;
    });
    stream.on("trailers", (t) => {
      trailers = t;
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    await new Promise<void>((resolve, reject) => {
      stream.on("close", resolve);
      stream.on("error", reject);
    });
    return {
      headers,
      trailers,
      envelopes: splitEnvelopes(Buffer.concat(chunks)),
      elapsedMs: performance.now() - started,
    };
  } finally {
    session.close();
  }
}
