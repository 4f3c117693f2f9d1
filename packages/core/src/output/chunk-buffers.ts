import { CHUNK_BYTES } from "./log-reader.js";

/** How long a pool keeps its free buffers once nothing takes them: streaming over, the memory goes back. */
const IDLE_RELEASE_MS = 5_000;

/**
 * Read buffers for output readers, with `headroom` free bytes in front of each
 * chunk so its consumer can frame it in place (the server writes the RPC
 * envelope and protobuf header there and sends chunk and header as one
 * buffer, never copying the bytes). Pooled buffers (`keep` > 0) are reused:
 * a consumer gives a chunk back once nothing refers to its bytes any more (the
 * server: once the socket has taken them). A pool keeps at most `keep` free
 * buffers, and drops them all after a few idle seconds.
 */
export class ChunkBuffers {
  private readonly free: ArrayBuffer[] = [];
  /** Buffers handed out and not given back: only these may be framed in place or given back. */
  private readonly lent = new WeakSet<ArrayBuffer>();
  private lastTaken = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    /** Free bytes in front of each chunk, for its consumer's framing. */
    readonly headroom: number,
    /** Free buffers kept for reuse; 0 is no pool (a buffer of its own, of the chunk's size, for each chunk). */
    private readonly keep = 0,
  ) {}

  /** A buffer with room for `headroom` bytes plus a chunk of up to `size` bytes (at most CHUNK_BYTES). */
  take(size: number): Buffer {
    this.lastTaken = performance.now();
    const pooled = this.free.pop();
    // Pooled buffers all have the largest size, so any of them fits any chunk.
    const buffer = pooled
      ? Buffer.from(pooled)
      : Buffer.allocUnsafeSlow(this.headroom + (this.keep > 0 ? CHUNK_BYTES : size));
    this.lent.add(buffer.buffer);
    return buffer;
  }

  /** Whether `data` is a chunk read into one of these buffers, at its headroom (so the headroom is free). */
  owns(data: Uint8Array): boolean {
    return data.byteOffset === this.headroom && this.lent.has(data.buffer as ArrayBuffer);
  }

  /** Takes back the buffer under a chunk from {@link take}; nothing may refer to its bytes any more. */
  give(data: Uint8Array): void {
    const buffer = data.buffer as ArrayBuffer;
    if (!this.lent.has(buffer)) return;
    this.lent.delete(buffer);
    if (this.free.length >= this.keep || buffer.byteLength !== this.headroom + CHUNK_BYTES) return;
    this.free.push(buffer);
    this.idleTimer ??= setInterval(() => this.dropIfIdle(), IDLE_RELEASE_MS).unref();
  }

  /** Free buffers held now (for tests and metrics). */
  get freeCount(): number {
    return this.free.length;
  }

  private dropIfIdle(): void {
    if (performance.now() - this.lastTaken < IDLE_RELEASE_MS) return;
    this.free.length = 0;
    clearInterval(this.idleTimer);
    this.idleTimer = undefined;
  }
}
