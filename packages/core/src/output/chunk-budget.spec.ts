import { describe, expect, it } from "vitest";
import { ChunkBudget, MIN_CHUNK_LIMIT } from "./chunk-budget.js";
import { CHUNK_BYTES } from "./log-reader.js";

describe("ChunkBudget", () => {
  it("lets one or two readers read the largest chunks and more readers smaller ones, down to a floor", () => {
    const budget = new ChunkBudget();
    const limits: number[] = [budget.chunkLimit];
    for (let i = 0; i < 12; i++) {
      budget.join();
      limits.push(budget.chunkLimit);
    }
    const K = CHUNK_BYTES;
    expect(limits).toEqual([K, K, K, K / 2, K / 2, K / 4, K / 4, K / 4, K / 4, K / 4, K / 4, K / 4, K / 4]);
    expect(MIN_CHUNK_LIMIT).toBe(K / 4);
  });

  it("gives a reader's share back once when it leaves, however often it says so", () => {
    const budget = new ChunkBudget();
    const leaveA = budget.join();
    const leaveB = budget.join();
    budget.join();
    expect(budget.chunkLimit).toBe(CHUNK_BYTES / 2);
    leaveA();
    leaveA();
    expect(budget.readerCount).toBe(2);
    expect(budget.chunkLimit).toBe(CHUNK_BYTES);
    leaveB();
    expect(budget.readerCount).toBe(1);
  });
});
