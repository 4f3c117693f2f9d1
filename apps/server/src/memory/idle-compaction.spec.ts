import { getHeapSpaceStatistics } from "node:v8";
import { describe, expect, it } from "vitest";
import { IdleCompaction, memoryReducingCollection } from "./idle-compaction.js";

/** Messages of `bytes` each, `count` of them. */
async function* messages(count: number, bytes: number): AsyncGenerator<{ data: Uint8Array }> {
  for (let i = 0; i < count; i++) yield { data: new Uint8Array(bytes) };
}

async function drain(iterable: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of iterable);
}

/** Resolves once `collected` has been called, or rejects after `ms`. */
function collectedWithin(ms: number): { collect: () => void; done: Promise<void> } {
  let resolve!: () => void;
  const done = new Promise<void>((res, reject) => {
    resolve = res;
    setTimeout(() => reject(new Error(`no compaction within ${ms} ms`)), ms).unref();
  });
  return { collect: () => resolve(), done };
}

describe("IdleCompaction", () => {
  it("compacts once the last stream has been closed for its delay, after enough bytes streamed", async () => {
    const { collect, done } = collectedWithin(5_000);
    const compaction = new IdleCompaction(collect, 10);
    await Promise.all([drain(compaction.track(messages(64, 2 ** 20))), drain(compaction.track(messages(1, 10)))]);
    await done;
  });

  it("does not compact while a stream is open, nor after little streaming", async () => {
    let collections = 0;
    const compaction = new IdleCompaction(() => collections++, 10);
    await drain(compaction.track(messages(3, 1024)));
    // A stream that stays open holds the compaction off whatever came before.
    const open = compaction.track(messages(100, 2 ** 20));
    for (let i = 0; i < 70; i++) await open.next();
    const { collect, done } = collectedWithin(5_000);
    const later = new IdleCompaction(collect, 10);
    await drain(later.track(messages(64, 2 ** 20)));
    await done; // the same delay has passed for `compaction`, with its stream open
    expect(collections).toBe(0);
    await open.return(undefined);
    compaction.close();
  });

  it("the default collection shrinks V8's young generation", () => {
    const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0;
    // Short-lived garbage at a high rate grows the young generation, as streaming does.
    let keep: object[] = [];
    for (let i = 0; i < 2_000_000; i++) {
      keep.push({ i });
      if (keep.length > 20_000) keep = keep.slice(10_000);
    }
    keep = [];
    const grown = newSpace();
    expect(grown).toBeGreaterThan(4 * 2 ** 20);
    memoryReducingCollection();
    expect(newSpace()).toBeLessThan(grown / 2);
  });
});
