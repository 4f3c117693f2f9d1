import { stat } from "node:fs/promises";
import { invalidArgument } from "../errors.js";
import type { ChunkBudget } from "./chunk-budget.js";
import { type OutputChunk, type ReadOutputOptions, readOutput } from "./log-reader.js";
import type { OutputFeed } from "./output-feed.js";
import { stampOutput } from "./stamped-output.js";
import { tailOffset } from "./tail-offset.js";
import { offsetSince, readEntries, type TimeIndex } from "./time-index.js";

/** Where in a job's output to start, besides an offset, and whether to stamp chunks with times. */
export interface OutputQuery extends ReadOutputOptions {
  /** Start at the beginning of the last this-many lines (read from the end of the file). */
  tailLines?: number;
  /** Start at the first output the server learned of at or after this time (epoch ms); see time-index.ts. */
  since?: number;
  /** Give each chunk the time the server learned of its first byte (chunks are cut where that time changes). */
  timestamps?: boolean;
}

/** Where a job's files are, and what its time index is. */
export interface OutputSource {
  logPath: string;
  timesPath: string;
  feed: OutputFeed;
  /** The index of a running job (undefined once it ended: its file is complete). */
  live?: TimeIndex;
  /** Time for output the index has no entry for (a job from before the index): the job's start. */
  fallbackTime: number;
  /** What the reader shares with every other reader of this host's jobs. */
  budget: ChunkBudget;
}

/** Checks a query's numbers before anything is opened. */
export function checkOutputQuery(query: OutputQuery): void {
  const { fromOffset, tailLines, since } = query;
  if (fromOffset !== undefined && (!Number.isSafeInteger(fromOffset) || fromOffset < 0)) {
    throw invalidArgument(`offset must be a non-negative integer, got ${fromOffset}`);
  }
  if (tailLines !== undefined && (!Number.isSafeInteger(tailLines) || tailLines < 0)) {
    throw invalidArgument(`tail lines must be a non-negative integer, got ${tailLines}`);
  }
  if (since !== undefined && !Number.isFinite(since)) throw invalidArgument(`since must be a time, got ${since}`);
}

/**
 * A job's output from the latest of `fromOffset`, the start of the last
 * `tailLines` lines and the first output since `since`, optionally stamped.
 */
export async function* queryOutput(
  source: OutputSource,
  query: OutputQuery,
): AsyncGenerator<OutputChunk & { time?: number }> {
  const entries = () => (source.live ? source.live.entries() : readEntries(source.timesPath));
  let from = query.fromOffset ?? 0;
  if (query.tailLines !== undefined) from = Math.max(from, (await tailOffset(source.logPath, query.tailLines)).offset);
  if (query.since !== undefined) {
    const end = Number.MAX_SAFE_INTEGER;
    const at = offsetSince(await entries(), query.since, end);
    // No stretch since then: only output still to come (a follower), from the current end.
    from = Math.max(from, at === end ? await currentSize(source.logPath) : at);
  }
  const chunks = readOutput(source.logPath, source.feed, { ...query, fromOffset: from, budget: source.budget });
  if (!query.timestamps) {
    yield* chunks;
    return;
  }
  yield* stampOutput(chunks, { live: source.live, entries }, source.fallbackTime);
}

async function currentSize(path: string): Promise<number> {
  return (await stat(path)).size;
}
