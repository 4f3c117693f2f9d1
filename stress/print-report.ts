// Prints the rows the stress suite recorded (JSON lines) as the markdown table in docs/reliability.md.
import { readFileSync } from "node:fs";

const file = process.argv[2] ?? "results.jsonl";
const rows = readFileSync(file, "utf8")
  .split("\n")
  .filter(Boolean)
  .map((line) => JSON.parse(line) as { scenario: string; checked: string; observed: string });
const cell = (text: string) => text.replaceAll("|", "\\|");
console.log("| scenario | what was checked | observed |\n|---|---|---|");
for (const row of rows) console.log(`| ${cell(row.scenario)} | ${cell(row.checked)} | ${cell(row.observed)} |`);
