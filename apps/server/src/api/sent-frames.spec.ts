import { once } from "node:events";
import { createServer, connect as http2Connect, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
import { CHUNK_BYTES, ChunkBuffers, type OutputChunk } from "@jobworker/core";
import { afterEach, describe, expect, it } from "vitest";
import { attachedFrame } from "./enveloped-binary.js";
import { FRAME_HEADROOM, outputResponses } from "./output-frames.js";

/** `count` full chunks read into `buffers`, as readOutput hands them out, each filled with its index. */
async function* chunksIn(buffers: ChunkBuffers, count: number): AsyncGenerator<OutputChunk> {
  for (let i = 0; i < count; i++) {
    const data = buffers.take(CHUNK_BYTES).subarray(FRAME_HEADROOM, FRAME_HEADROOM + CHUNK_BYTES);
    data.fill(i % 251);
    yield { offset: i * CHUNK_BYTES, data };
  }
}

/** Resolves once `check` holds, polling on the event loop's turns; fails after `ms`. */
async function until(check: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("pool slots of StreamOutput frames", () => {
  const closers: (() => void)[] = [];
  afterEach(() => {
    for (const close of closers.splice(0)) close();
  });

  /** An HTTP/2 server whose one response writes `count` frames the way connect does; and a client. */
  async function serve(buffers: ChunkBuffers, count: number) {
    const server = createServer();
    const served = new Promise<void>((resolve) => {
      server.on("stream", async (stream: ServerHttp2Stream) => {
        stream.respond({ ":status": 200 });
        try {
          // connect writes each frame and waits for 'drain' when write() says so, then asks for the next.
          for await (const message of outputResponses(chunksIn(buffers, count), buffers, stream)) {
            const frame = attachedFrame(message) as Uint8Array;
            if (stream.destroyed) break;
            if (!stream.write(frame) && !stream.destroyed) {
              // Both listeners go once either fires, as connect's do: a long stream waits thousands of times.
              await new Promise<void>((resolve) => {
                const done = () => {
                  stream.off("drain", done);
                  stream.off("close", done);
                  resolve();
                };
                stream.on("drain", done);
                stream.on("close", done);
              });
            }
          }
          if (!stream.destroyed) stream.end();
        } catch {
          // the client went away
        }
        resolve();
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const session = http2Connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    closers.push(() => {
      session.destroy();
      server.close();
    });
    return { session, served };
  }

  it("every slot goes back once its frame is written, the last ones once the stream has finished", async () => {
    const buffers = new ChunkBuffers(FRAME_HEADROOM, 4);
    const { session, served } = await serve(buffers, 40);
    const request = session.request({ ":path": "/" });
    let bytes = 0;
    request.on("data", (data: Buffer) => {
      bytes += data.length;
    });
    await once(request, "end");
    await served;
    expect(bytes).toBeGreaterThan(40 * CHUNK_BYTES);
    await until(() => buffers.lentCount === 0, 5_000);
    // Slots were reused, not one per chunk: the frames never outran the socket by more than a few.
    expect(buffers.pooledCount).toBeLessThanOrEqual(8);
  });

  it("a client that goes away mid-stream (its connection cut) leaves no slot lent once its stream is closed", async () => {
    const buffers = new ChunkBuffers(FRAME_HEADROOM, 4);
    const { session, served } = await serve(buffers, 1000);
    const request = session.request({ ":path": "/" });
    // Read a little, then stop reading and go away with frames still queued for it.
    await once(request, "data");
    request.pause();
    session.destroy();
    await served;
    await until(() => buffers.lentCount === 0, 5_000);
  });
});
