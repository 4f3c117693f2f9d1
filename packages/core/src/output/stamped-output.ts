import type { OutputChunk } from "./log-reader.js";
import { stretchAt, type TimeEntry, type TimeIndex } from "./time-index.js";

/** A chunk of output with the time the server learned of its first byte. */
export interface StampedChunk extends OutputChunk {
  /** Epoch milliseconds. */
  time: number;
}

/**
 * Chunks cut where the time index starts a new stretch, each with its
 * stretch's time. Bytes the index has no stretch for yet (a reader woken by
 * new output before the index heard of it) are this moment's news: the index
 * learns of them now. Output from before the index existed takes `fallback`.
 */
export async function* stampOutput(
  chunks: AsyncIterable<OutputChunk>,
  index: { live?: TimeIndex; entries: () => Promise<TimeEntry[]> },
  fallback: number,
): AsyncGenerator<StampedChunk> {
  let entries = await index.entries();
  let seen = index.live?.added ?? 0;
  for await (const chunk of chunks) {
    const end = chunk.offset + chunk.data.length;
    if (index.live) {
      index.live.learned(end, Date.now());
      if (index.live.added !== seen) {
        seen = index.live.added;
        entries = await index.entries();
      }
    }
    let at = chunk.offset;
    while (at < end) {
      const { time, next } = stretchAt(entries, at);
      const until = next !== undefined && next < end ? next : end;
      yield { offset: at, data: chunk.data.subarray(at - chunk.offset, until - chunk.offset), time: time ?? fallback };
      at = until;
    }
  }
}
