import { createHash } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { CHUNK_BYTES, ChunkBuffers } from "@jobworker/core";
import { StreamOutputResponseSchema } from "@jobworker/proto";
import { codeOf } from "@jobworker/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientFor, type JobClient, type ServedTestServer, startServedTestServer } from "../testing/test-server.js";
import { FRAME_HEADROOM, frameOf } from "./output-frames.js";

const needsRoot = process.getuid?.() !== 0;

describe("StreamOutput frames", () => {
  const offsets = [0, 1, 127, 128, 16_383, 16_384, 2 ** 32, Number.MAX_SAFE_INTEGER];
  const lengths = [1, 127, 128, 16_384, CHUNK_BYTES - 1, CHUNK_BYTES];

  it.each(offsets)("are what protobuf-es encodes, behind 5 free bytes, at offset %d", (offset) => {
    for (const length of lengths) {
      const data = Buffer.alloc(length, offset % 251);
      const expected = toBinary(
        StreamOutputResponseSchema,
        create(StreamOutputResponseSchema, { offset: BigInt(offset), data }),
      );
      // A chunk of its own (copied once into its frame) and one read into a buffer's headroom (framed in place).
      const buffers = new ChunkBuffers(FRAME_HEADROOM, 1);
      const inPlace = buffers.take(length).subarray(FRAME_HEADROOM, FRAME_HEADROOM + length);
      inPlace.set(data);
      for (const chunkData of [data, inPlace]) {
        const frame = frameOf({ offset, data: chunkData }, buffers);
        expect(Buffer.from(frame.subarray(5))).toEqual(Buffer.from(expected));
      }
      // In place means the frame is the chunk's own memory.
      expect(frameOf({ offset, data: inPlace }, buffers).buffer).toBe(inPlace.buffer);
    }
  });

  it("a pool lends each slot once and takes back only what it lent", () => {
    const buffers = new ChunkBuffers(FRAME_HEADROOM, 2);
    const chunkOf = (buffer: Buffer) => buffer.subarray(FRAME_HEADROOM, FRAME_HEADROOM + 10);
    const a = chunkOf(buffers.take(10));
    const b = chunkOf(buffers.take(10));
    expect(buffers.owns(a) && buffers.owns(b)).toBe(true);
    expect(a.buffer).toBe(b.buffer); // one slab
    expect(Math.abs(a.byteOffset - b.byteOffset)).toBeGreaterThanOrEqual(FRAME_HEADROOM + CHUNK_BYTES);
    expect(buffers.owns(Buffer.alloc(FRAME_HEADROOM + 10).subarray(FRAME_HEADROOM))).toBe(false);
    expect(buffers.owns(a.subarray(1))).toBe(false); // not at a slot's headroom
    buffers.give(a);
    buffers.give(a); // a second give of the same chunk is ignored
    expect(buffers.owns(a)).toBe(false);
    const c = chunkOf(buffers.take(10));
    expect(c.byteOffset).toBe(a.byteOffset); // a's slot, lent again
    expect(buffers.pooledCount).toBe(2);
    chunkOf(buffers.take(10)); // the slab is full: a second one
    expect(buffers.pooledCount).toBe(4);
    // A short chunk moves to a buffer of its own (still framed in place) and its slot goes back.
    const short = buffers.take(10).subarray(FRAME_HEADROOM, FRAME_HEADROOM + 3);
    short.set([1, 2, 3]);
    const own = buffers.compact(short);
    expect([...own]).toEqual([1, 2, 3]);
    expect(own.buffer.byteLength).toBe(FRAME_HEADROOM + 3);
    expect(buffers.owns(own) && !buffers.owns(short)).toBe(true);
    expect(frameOf({ offset: 7, data: own }, buffers).buffer).toBe(own.buffer);
  });
});

/** Every protocol and format the server speaks, as clients use them. */
const PROTOCOLS = [
  ["gRPC", { protocol: "grpc", httpVersion: "2" }],
  ["gRPC, JSON", { protocol: "grpc", httpVersion: "2", useBinaryFormat: false }],
  ["Connect over HTTP/2", { protocol: "connect", httpVersion: "2" }],
  ["Connect over HTTP/1.1", { protocol: "connect", httpVersion: "1.1" }],
  ["Connect over HTTP/2, JSON", { protocol: "connect", httpVersion: "2", useBinaryFormat: false }],
  ["gRPC-Web over HTTP/2", { protocol: "grpc-web", httpVersion: "2" }],
  ["gRPC-Web over HTTP/1.1", { protocol: "grpc-web", httpVersion: "1.1" }],
  ["gRPC-Web over HTTP/1.1, JSON", { protocol: "grpc-web", httpVersion: "1.1", useBinaryFormat: false }],
] as const;

/** Output of this many bytes: several full chunks and a short one, every byte position distinct. */
const OUTPUT_BYTES = 5 * CHUNK_BYTES + 12_345;

describe.skipIf(needsRoot)("StreamOutput framed in place (needs root: it runs real jobs)", () => {
  let served: ServedTestServer;
  let alice: JobClient;
  let id: string;
  let expected: Buffer;

  beforeAll(async () => {
    served = await startServedTestServer();
    alice = served.alice;
    // Distinct bytes everywhere (a counter's text), so a chunk sent twice or out of place shows.
    const script = `seq 1 1000000 | head -c ${OUTPUT_BYTES}`;
    id = (await alice.startJob({ command: "sh", args: ["-c", script] })).job?.id ?? "";
    await alice.waitJob({ id });
    expected = Buffer.from(
      Array.from({ length: 1_000_000 }, (_, i) => `${i + 1}\n`)
        .join("")
        .slice(0, OUTPUT_BYTES),
    );
  }, 60_000);
  afterAll(() => served.dispose());

  /** The output from `fromOffset`, checking each message's offset against the bytes before it. */
  async function read(client: JobClient, fromOffset = 0, pause?: Promise<unknown>): Promise<Buffer> {
    const parts: Uint8Array[] = [];
    let at = fromOffset;
    for await (const chunk of client.streamOutput({ id, fromOffset: BigInt(fromOffset) })) {
      expect(chunk.offset).toBe(BigInt(at));
      at += chunk.data.length;
      // Copied: the client may reuse nothing, but the check must not depend on that.
      parts.push(Buffer.from(chunk.data));
      if (pause && parts.length === 1) await pause;
    }
    return Buffer.concat(parts);
  }

  it.each(PROTOCOLS)("%s: byte-exact, with offsets", async (_name, options) => {
    const output = await read(clientFor(served.server, served.pki, served.pki.clients.alice, options));
    expect(output.length).toBe(OUTPUT_BYTES);
    expect(output.equals(expected)).toBe(true);
  });

  it.each([1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 2 * CHUNK_BYTES, OUTPUT_BYTES - 1])(
    "from offset %d, at and around chunk boundaries",
    async (from) => {
      const output = await read(alice, from);
      expect(output.equals(expected.subarray(from))).toBe(true);
    },
  );

  it("ten readers at once, one of them pausing after its first chunk, all byte-exact (buffers reused across streams)", async () => {
    let resume!: () => void;
    const paused = new Promise<void>((resolve) => {
      resume = resolve;
    });
    const slow = read(clientFor(served.server, served.pki, served.pki.clients.alice), 0, paused);
    const others = Array.from({ length: 9 }, () =>
      read(clientFor(served.server, served.pki, served.pki.clients.alice)),
    );
    const outputs = await Promise.all(others);
    resume();
    outputs.push(await slow);
    const hashes = new Set(outputs.map((o) => createHash("sha256").update(o).digest("hex")));
    expect(hashes).toEqual(new Set([createHash("sha256").update(expected).digest("hex")]));
  }, 60_000);

  it("ten followers of a job still writing, one of them pausing, all get every byte once", async () => {
    // Bursts of lines with pauses: full chunks while catching up, short ones at the live end.
    const script = "i=0; while [ $i -lt 40 ]; do seq $((i*3000)) $((i*3000+2999)); sleep 0.02; i=$((i+1)); done";
    const live = (await alice.startJob({ command: "sh", args: ["-c", script] })).job?.id ?? "";
    let resume!: () => void;
    const paused = new Promise<void>((resolve) => {
      resume = resolve;
    });
    const follow = async (client: JobClient, pause?: Promise<void>) => {
      const parts: Uint8Array[] = [];
      let at = 0n;
      for await (const chunk of client.streamOutput({ id: live, follow: true })) {
        expect(chunk.offset).toBe(at);
        at += BigInt(chunk.data.length);
        parts.push(Buffer.from(chunk.data));
        if (pause && parts.length === 1) await pause;
      }
      return Buffer.concat(parts);
    };
    const slow = follow(clientFor(served.server, served.pki, served.pki.clients.alice), paused);
    const outputs = await Promise.all(
      Array.from({ length: 9 }, () => follow(clientFor(served.server, served.pki, served.pki.clients.alice))),
    );
    resume();
    outputs.push(await slow);
    const expectedLive = Buffer.from(Array.from({ length: 120_000 }, (_, i) => `${i}\n`).join(""));
    for (const output of outputs) expect(output.equals(expectedLive)).toBe(true);
  }, 60_000);

  it("streams cancelled mid-way leave nothing behind that corrupts the next ones", async () => {
    for (let round = 0; round < 5; round++) {
      const controller = new AbortController();
      const cancelled = (async () => {
        for await (const _ of alice.streamOutput({ id }, { signal: controller.signal })) controller.abort();
      })();
      expect(await codeOf(cancelled)).toBe(Code.Canceled);
      expect((await read(alice)).equals(expected)).toBe(true);
    }
    await served.server.streams.idle();
  }, 60_000);
});
