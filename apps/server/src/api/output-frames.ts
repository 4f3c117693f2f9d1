import type { Http2Stream } from "node:http2";
import { finished } from "node:stream";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ChunkBuffers, type OutputChunk } from "@jobworker/core";
import { type StreamOutputResponse, StreamOutputResponseSchema } from "@jobworker/proto";
import { attachFrame, ENVELOPE_BYTES, writeVarint } from "./enveloped-binary.js";

/** The envelope (flags and length), then the offset field (tag, varint of up to 8 bytes for a safe integer), then data's tag and length (up to 3 bytes for a chunk): 5 + 9 + 4, rounded up. */
export const FRAME_HEADROOM = 24;

/**
 * Chunk buffers per slab of the pool: 8 MiB, what two or three streams hold at
 * once. Memory is only touched as far as chunks fill their slots, and with many
 * streams each reads smaller chunks (ChunkBudget in @jobworker/core).
 */
const SLAB_SLOTS = 8;

/**
 * The chunk buffers StreamOutput reads into when the response goes out on an
 * HTTP/2 stream: pooled, with room for each frame's header in front.
 */
export function pooledOutputBuffers(): ChunkBuffers {
  return new ChunkBuffers(FRAME_HEADROOM, SLAB_SLOTS);
}

/** Buffers of their own for each chunk (no pool), still with room for the frame's header. */
export function unpooledOutputBuffers(): ChunkBuffers {
  return new ChunkBuffers(FRAME_HEADROOM);
}

/**
 * StreamOutput's responses for `chunks`, each carrying its gRPC/Connect frame
 * so the chunk's bytes are never copied: chunks read into `buffers` are framed
 * in their own headroom; any other chunk (a stamped piece, say) is copied once
 * into a frame of its own. When the response goes out on an HTTP/2 stream
 * (`stream`), each pooled chunk goes back to the pool once the stream has
 * written it to the socket (its write callback ran; see {@link SentFrames}).
 */
export async function* outputResponses(
  chunks: AsyncIterable<OutputChunk & { time?: number }>,
  buffers: ChunkBuffers | undefined,
  stream: Http2Stream | undefined,
): AsyncGenerator<StreamOutputResponse> {
  const sent = new SentFrames(buffers, stream);
  try {
    for await (const chunk of chunks) {
      sent.giveBackWritten();
      const message = create(StreamOutputResponseSchema, {
        offset: BigInt(chunk.offset),
        data: chunk.data,
        time: chunk.time === undefined ? undefined : timestampFromMs(chunk.time),
      });
      if (chunk.time === undefined) {
        const frame = frameOf(chunk, buffers);
        attachFrame(message, frame);
        sent.add(chunk.data, frame.byteLength);
      }
      yield message;
    }
  } finally {
    sent.giveBackWritten();
    sent.giveBackOnceFinished();
  }
}

/**
 * The frame of a StreamOutputResponse with `offset` and `data` set: 5 bytes
 * left for the envelope, then the protobuf encoding (field 1 varint, field 2
 * length-delimited), exactly as protobuf-es would write it.
 */
export function frameOf(chunk: OutputChunk, buffers: ChunkBuffers | undefined): Uint8Array {
  const header = new Uint8Array(FRAME_HEADROOM);
  let length = 0;
  // proto3 leaves a zero field out.
  if (chunk.offset > 0) {
    header[length++] = 0x08; // field 1, varint
    length = writeVarint(header, length, chunk.offset);
  }
  header[length++] = 0x12; // field 2, length-delimited
  length = writeVarint(header, length, chunk.data.byteLength);
  const { data } = chunk;
  if (buffers?.owns(data)) {
    const start = data.byteOffset - length - ENVELOPE_BYTES;
    const frame = new Uint8Array(data.buffer, start, ENVELOPE_BYTES + length + data.byteLength);
    frame.set(header.subarray(0, length), ENVELOPE_BYTES);
    return frame;
  }
  const frame = new Uint8Array(ENVELOPE_BYTES + length + data.byteLength);
  frame.set(header.subarray(0, length), ENVELOPE_BYTES);
  frame.set(data, ENVELOPE_BYTES + length);
  return frame;
}

/**
 * The frames handed to connect, newest last, until the HTTP/2 stream has
 * written them. A Writable completes writes in order, and its writableLength
 * counts the bytes of the writes not yet completed; connect writes each frame
 * before it asks for the next, so those bytes are the newest frames' and every
 * older frame has left: its buffer can be reused. Frames still queued when
 * the call ends go back once the stream has finished or closed. Without a
 * stream to ask (HTTP/1.1), nothing is pooled.
 */
class SentFrames {
  private readonly frames: { data: Uint8Array; bytes: number }[] = [];

  constructor(
    private readonly buffers: ChunkBuffers | undefined,
    private readonly stream: Http2Stream | undefined,
  ) {}

  add(data: Uint8Array, bytes: number): void {
    if (this.stream && this.buffers?.owns(data)) this.frames.push({ data, bytes });
  }

  /**
   * The call is over: what is still queued goes back once the stream has
   * written everything (or been closed, its queue dropped). Until then those
   * slots stay lent, and their slab stays allocated.
   */
  giveBackOnceFinished(): void {
    const { stream, buffers, frames } = this;
    if (!stream || !buffers || frames.length === 0) return;
    const left = frames.splice(0);
    finished(stream, { readable: false }, () => {
      for (const frame of left) buffers.give(frame.data);
    });
  }

  giveBackWritten(): void {
    const { stream, buffers, frames } = this;
    if (!stream || !buffers || frames.length === 0) return;
    // A destroyed stream's queue may still be on its way out: those wait for its close.
    if (stream.destroyed) return;
    let pending = stream.writableLength;
    let keep = 0;
    for (let i = frames.length - 1; i >= 0 && pending > 0; i--) {
      pending -= frames[i]?.bytes ?? 0;
      keep++;
    }
    for (const frame of frames.splice(0, frames.length - keep)) buffers.give(frame.data);
  }
}
