/** Median, 99th percentile and mean of a sample, in its own unit. */
export interface Summary {
  p50: number;
  p99: number;
  mean: number;
  count: number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), mean: sorted.reduce((a, b) => a + b, 0) / sorted.length, count: sorted.length };
}

/** Times `run` `count` times, one after another, in milliseconds. */
export async function timeEach(count: number, run: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  return samples;
}

/** Times each of `runs` `count` times, taking turns (a, b, c, a, b, c, ...); one sample list per run. */
export async function timeInterleaved(count: number, runs: readonly (() => Promise<unknown>)[]): Promise<number[][]> {
  const samples = runs.map(() => [] as number[]);
  for (let i = 0; i < count; i++) {
    for (const [index, run] of runs.entries()) {
      const started = performance.now();
      await run();
      samples[index]?.push(performance.now() - started);
    }
  }
  return samples;
}
