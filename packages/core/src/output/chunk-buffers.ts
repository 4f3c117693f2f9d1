import { CHUNK_BYTES } from "./log-reader.js";

/** How long a pool keeps a slab with nothing lent from it once nothing is taken: streaming over, the memory goes back. */
const IDLE_RELEASE_MS = 5_000;

/** A pool's slab: one allocation cut into slots of headroom + CHUNK_BYTES. */
interface Slab {
  buffer: ArrayBuffer;
  /** Slot indexes free to lend. */
  free: number[];
  lent: Set<number>;
}

/**
 * Read buffers for output readers, with `headroom` free bytes in front of each
 * chunk so its consumer can frame it in place (the server writes the RPC
 * envelope and protobuf header there and sends chunk and header as one
 * buffer, never copying the bytes). A consumer gives a chunk back once nothing
 * refers to its bytes any more (the server: once the socket has taken them).
 *
 * A pool (`slabSlots` > 0) lends slots of slabs, each slab one allocation of
 * `slabSlots` chunk buffers, and frees a slab whose slots are all back after a
 * few idle seconds. Slabs, rather than a buffer per chunk, because of how
 * malloc gives memory back: a few-MiB block is mapped on its own and unmapped
 * when freed, while 256 KiB blocks freed by the thousand raise glibc's mmap
 * threshold and then come from, and stay in, its heap (12 MiB of an idle
 * server's PSS after streaming to ten clients). Freed means detached at once,
 * not left to the GC: an idle server runs none.
 *
 * Without a pool each chunk gets a buffer of its own, of the chunk's size.
 */
export class ChunkBuffers {
  private readonly slabs = new Map<ArrayBuffer, Slab>();
  /** Buffers of their own handed out (unpooled, or compacted): framed in place too, freed when given back. */
  private readonly lentAlone = new WeakSet<ArrayBuffer>();
  private lastTaken = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    /** Free bytes in front of each chunk, for its consumer's framing. */
    readonly headroom: number,
    /** Chunk buffers per slab of the pool; 0 is no pool. */
    private readonly slabSlots = 0,
  ) {}

  private get slotBytes(): number {
    return this.headroom + CHUNK_BYTES;
  }

  /** A buffer with room for `headroom` bytes plus a chunk of up to `size` bytes (at most CHUNK_BYTES). */
  take(size: number): Buffer {
    if (this.slabSlots === 0) {
      const buffer = Buffer.allocUnsafeSlow(this.headroom + size);
      this.lentAlone.add(buffer.buffer);
      return buffer;
    }
    this.lastTaken = performance.now();
    this.idleTimer ??= setInterval(() => this.releaseIfIdle(), IDLE_RELEASE_MS).unref();
    let slab = [...this.slabs.values()].find((s) => s.free.length > 0);
    if (!slab) {
      const buffer = new ArrayBuffer(this.slotBytes * this.slabSlots);
      slab = {
        buffer,
        free: Array.from({ length: this.slabSlots }, (_, i) => this.slabSlots - 1 - i),
        lent: new Set(),
      };
      this.slabs.set(buffer, slab);
    }
    const slot = slab.free.pop() as number;
    slab.lent.add(slot);
    return Buffer.from(slab.buffer, slot * this.slotBytes, this.slotBytes);
  }

  /**
   * `data`, a chunk in one of these buffers, in a buffer of its own of its size (headroom in front),
   * its slot back in the pool. For a short chunk that may wait long to be sent (a follower's, at
   * the live end of a quiet job): it would hold a whole slot all that time.
   */
  compact(data: Buffer): Buffer {
    const own = Buffer.allocUnsafeSlow(this.headroom + data.byteLength);
    data.copy(own, this.headroom);
    this.lentAlone.add(own.buffer);
    this.give(data);
    return own.subarray(this.headroom);
  }

  /** Whether `data` is a chunk read into one of these buffers, at its headroom (so the headroom is free). */
  owns(data: Uint8Array): boolean {
    if (data.byteOffset === this.headroom && this.lentAlone.has(data.buffer as ArrayBuffer)) return true;
    return this.slotOf(data) !== undefined;
  }

  /** Takes back the buffer under a chunk from {@link take}; nothing may refer to its bytes any more. */
  give(data: Uint8Array): void {
    const buffer = data.buffer as ArrayBuffer;
    if (data.byteOffset === this.headroom && this.lentAlone.delete(buffer)) {
      release(buffer);
      return;
    }
    const at = this.slotOf(data);
    if (!at) return;
    at.slab.lent.delete(at.slot);
    at.slab.free.push(at.slot);
  }

  /** Pool slots lent and not given back yet (for tests and metrics). */
  get lentCount(): number {
    let lent = 0;
    for (const slab of this.slabs.values()) lent += slab.lent.size;
    return lent;
  }

  /** Chunk buffers the pool holds now, lent or not (for tests and metrics). */
  get pooledCount(): number {
    return this.slabs.size * this.slabSlots;
  }

  private slotOf(data: Uint8Array): { slab: Slab; slot: number } | undefined {
    const slab = this.slabs.get(data.buffer as ArrayBuffer);
    const start = data.byteOffset - this.headroom;
    if (!slab || start % this.slotBytes !== 0) return undefined;
    const slot = start / this.slotBytes;
    return slab.lent.has(slot) ? { slab, slot } : undefined;
  }

  private releaseIfIdle(): void {
    if (performance.now() - this.lastTaken < IDLE_RELEASE_MS) return;
    for (const slab of this.slabs.values()) {
      if (slab.lent.size > 0) continue;
      this.slabs.delete(slab.buffer);
      release(slab.buffer);
    }
    if (this.slabs.size === 0) {
      clearInterval(this.idleTimer);
      this.idleTimer = undefined;
    }
  }
}

/** Frees a buffer's memory now (nothing may refer to its bytes): detaching it releases the backing store. */
function release(buffer: ArrayBuffer): void {
  // ES2024, in every Node this project supports; the project's TypeScript lib is older.
  (buffer as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(0);
}
