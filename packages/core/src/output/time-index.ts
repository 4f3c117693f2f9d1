import { closeSync, fstatSync, ftruncateSync, openSync, readSync } from "node:fs";
import { appendFile, readFile } from "node:fs/promises";

/**
 * How long one entry of the index may cover: output the server learns of
 * within this time of an entry's start shares that entry's time. It is the
 * index's precision (docs/api.md): a byte's time is when the server learned
 * of its stretch's first byte, at most this much before it learned of the byte.
 */
export const STRETCH_MS = 100;

/** Bytes of one entry on disk: the stretch's first offset and its time, both little-endian uint64. */
const ENTRY_BYTES = 16;
/** Entries kept in memory before they are appended to the file. */
const FLUSH_ENTRIES = 64;
/** Longest an entry waits in memory before it is appended (a crash loses at most this much precision). */
const FLUSH_MS = 1000;

/** A stretch of output: it begins at `offset`, and the server learned of its first byte at `time`. */
export interface TimeEntry {
  offset: number;
  /** Epoch milliseconds. */
  time: number;
}

/**
 * A job's compact output time index: one 16-byte entry per stretch of output
 * (at most one per STRETCH_MS while the job writes, none while it is quiet),
 * appended to a file next to the log. It answers "when did this byte come?"
 * for `logs --timestamps` and "where does output since T begin?" for
 * `logs --since`. Entries stay in memory until 64 gather or a second passes.
 */
export class TimeIndex {
  private pending: TimeEntry[] = [];
  private lastStart = Number.NEGATIVE_INFINITY;
  private flushTimer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private noticedAt?: number;
  /** Entries added by this index so far: a reader re-reads the entries when it changes. */
  added = 0;

  private constructor(
    readonly path: string,
    /** Output the index has stamped so far: bytes past it are new to it. */
    private known: number,
  ) {}

  /** The index of a job just launched: it has written nothing, and its file does not exist yet. */
  static forNewJob(path: string): TimeIndex {
    return new TimeIndex(path, 0);
  }

  /**
   * The index of a running job, to append to. After a restart it goes on from
   * the last stretch on file: bytes written meanwhile are stamped when this
   * server learns of them (later than written, never earlier).
   */
  static openForAppend(path: string): TimeIndex {
    let known = 0;
    try {
      const fd = openSync(path, "r+");
      try {
        let size = fstatSync(fd).size;
        // A crash in the middle of an append leaves part of an entry: cut it, or every later one would be misread.
        if (size % ENTRY_BYTES !== 0) {
          size -= size % ENTRY_BYTES;
          ftruncateSync(fd, size);
        }
        if (size >= ENTRY_BYTES) {
          const last = Buffer.alloc(ENTRY_BYTES);
          readSync(fd, last, 0, ENTRY_BYTES, size - ENTRY_BYTES);
          known = Number(last.readBigUInt64LE(0));
        }
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    return new TimeIndex(path, known);
  }

  /**
   * The server was told at `now` that the output grew (an inotify event), before
   * it knows by how much: the next stretch takes this time, not the later one
   * of the size check.
   */
  noticed(now: number): void {
    this.noticedAt ??= now;
  }

  /** The server learned at `now` that the output is `size` bytes long. */
  learned(size: number, now: number): void {
    const time = Math.min(this.noticedAt ?? now, now);
    this.noticedAt = undefined;
    if (size <= this.known) return;
    if (time - this.lastStart >= STRETCH_MS) {
      this.pending.push({ offset: this.known, time });
      this.lastStart = time;
      this.added++;
      if (this.pending.length >= FLUSH_ENTRIES) void this.flush();
      else this.flushTimer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
    }
    this.known = size;
  }

  /** Every entry: those on file, then those still in memory. */
  async entries(): Promise<TimeEntry[]> {
    const pending = [...this.pending];
    const onFile = await readEntries(this.path);
    // Entries written meanwhile are both on file and (until their write is acknowledged) in memory.
    const last = onFile.at(-1)?.time ?? Number.NEGATIVE_INFINITY;
    return [...onFile, ...pending.filter((entry) => entry.time > last)];
  }

  /** Appends the entries in memory to the file; resolves once they are written. */
  flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const entries = this.pending;
    if (entries.length > 0) {
      const buffer = Buffer.alloc(entries.length * ENTRY_BYTES);
      entries.forEach((entry, i) => {
        buffer.writeBigUInt64LE(BigInt(entry.offset), i * ENTRY_BYTES);
        buffer.writeBigUInt64LE(BigInt(entry.time), i * ENTRY_BYTES + 8);
      });
      // Written in order, one append at a time; the entries leave memory once on file.
      this.writing = this.writing.then(() =>
        appendFile(this.path, buffer, { mode: 0o600 }).then(
          () => {
            this.pending = this.pending.filter((entry) => !entries.includes(entry));
          },
          () => {}, // the job was deleted meanwhile
        ),
      );
    }
    return this.writing;
  }
}

/** The entries of an index file (none when it does not exist: a job from before the index). */
export async function readEntries(path: string): Promise<TimeEntry[]> {
  const data = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return Buffer.alloc(0);
    throw error;
  });
  const entries: TimeEntry[] = [];
  for (let at = 0; at + ENTRY_BYTES <= data.length; at += ENTRY_BYTES) {
    entries.push({ offset: Number(data.readBigUInt64LE(at)), time: Number(data.readBigUInt64LE(at + 8)) });
  }
  return entries;
}

/**
 * Where output the server learned of at or after `since` begins: the first
 * stretch that may hold such bytes (one that began less than STRETCH_MS before
 * `since`, or later). Never skips a byte learned after `since`; may include
 * bytes of the STRETCH_MS before it. `end` when no stretch qualifies.
 */
export function offsetSince(entries: readonly TimeEntry[], since: number, end: number): number {
  const entry = entries.find((candidate) => candidate.time + STRETCH_MS > since);
  return entry ? entry.offset : end;
}

/** The time of the stretch that holds `offset`, and where the next stretch begins (or undefined). */
/** (Among entries of one offset, which a restart can leave, the later one holds: it is the one found.) */
export function stretchAt(entries: readonly TimeEntry[], offset: number): { time?: number; next?: number } {
  let low = 0;
  let high = entries.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if ((entries[middle]?.offset ?? 0) <= offset) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return { time: entries[found]?.time, next: entries[found + 1]?.offset };
}
