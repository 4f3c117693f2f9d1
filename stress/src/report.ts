import { appendFileSync } from "node:fs";

/**
 * Records one scenario's outcome for docs/reliability.md. Rows go to stdout and,
 * when STRESS_REPORT names a file, to that file as JSON lines.
 */
export function report(scenario: string, checked: string, observed: string): void {
  const row = { scenario, checked, observed };
  process.stdout.write(`STRESS-REPORT ${JSON.stringify(row)}\n`);
  if (process.env.STRESS_REPORT) appendFileSync(process.env.STRESS_REPORT, `${JSON.stringify(row)}\n`);
}
