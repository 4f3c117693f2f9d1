import { Readable } from "node:stream";
import type { OutputChunk } from "./log-reader.js";

/**
 * A job's output as a byte stream, for `pipe` and `pipeline`: the chunks'
 * bytes in order, offsets dropped. Destroying the stream (or a consumer that
 * stops) ends the reader underneath and releases its file at once.
 */
export function outputStream(chunks: AsyncIterable<OutputChunk>): Readable {
  return Readable.from(bytesOf(chunks), { objectMode: false });
}

async function* bytesOf(chunks: AsyncIterable<OutputChunk>): AsyncGenerator<Buffer, void, undefined> {
  for await (const chunk of chunks) yield Buffer.from(chunk.data.buffer, chunk.data.byteOffset, chunk.data.byteLength);
}
