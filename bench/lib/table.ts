/** One row of the results table: a figure, its floor, and whether the target is met. */
export interface Row {
  benchmark: string;
  figure: string;
  floor: string;
  /** figure / floor (or floor / figure for throughputs), as printed. */
  ratio: string;
  target: string;
  met: boolean | undefined;
}

export function markdownTable(rows: readonly Row[]): string {
  const lines = [
    "| benchmark | figure | floor | ratio | target | met |",
    "|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.benchmark} | ${r.figure} | ${r.floor} | ${r.ratio} | ${r.target} | ${r.met === undefined ? "-" : r.met ? "yes" : "**no**"} |`,
    ),
  ];
  return lines.join("\n");
}

export const ms = (value: number) => `${value.toFixed(2)} ms`;
export const x = (value: number) => `${value.toFixed(2)}×`;
