/** Edit distance (insertions, deletions, substitutions, and swaps of neighbours: "stauts" is 1 from "status"). */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => rows[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      const row = rows[i];
      if (row) row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The known name closest to `word`, for "did you mean": within a third of the
 * longer word's length (a typo, not a different word), or undefined. Between
 * names as close, the one of the word's own length wins: the common typos
 * (swapped or mistyped letters) keep the length, so "stauts" means "status",
 * not "stats".
 */
export function nearestName(word: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  let bestLengthGap = Number.POSITIVE_INFINITY;
  for (const name of known) {
    const distance = editDistance(word.toLowerCase(), name.toLowerCase());
    const lengthGap = Math.abs(word.length - name.length);
    if (distance < bestDistance || (distance === bestDistance && lengthGap < bestLengthGap)) {
      best = name;
      bestDistance = distance;
      bestLengthGap = lengthGap;
    }
  }
  const allowed = Math.max(1, Math.ceil(Math.max(word.length, best?.length ?? 0) / 3));
  return bestDistance <= allowed ? best : undefined;
}

/** " (did you mean 'x'?)" when a known name is close, else "". */
export function didYouMean(word: string, known: Iterable<string>, quote = (name: string) => `'${name}'`): string {
  const nearest = nearestName(word, known);
  return nearest === undefined ? "" : ` (did you mean ${quote(nearest)}?)`;
}
