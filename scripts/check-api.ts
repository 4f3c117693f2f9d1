// Fails when a package's public API differs from its checked-in api-report.d.ts,
// or names a type its entry point does not export. `--update` rewrites the
// reports; `--package DIR` (repeatable) checks other packages than the default.
// Run after a build: a package's report resolves its dependencies' built types.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { apiReport } from "./api-report.ts";

const REPORT_FILE = "api-report.d.ts";
const { values } = parseArgs({
  options: { update: { type: "boolean", default: false }, package: { type: "string", multiple: true } },
});
const root = resolve(import.meta.dirname, "..");
const packages = values.package ?? [join(root, "packages/core"), join(root, "packages/helper")];

let failed = false;
for (const dir of packages) {
  const name = relative(root, resolve(dir)) || dir;
  const { text, problems } = apiReport(dir);
  for (const problem of problems) console.error(`${name}: ${problem}`);
  failed ||= problems.length > 0;
  const reportPath = join(dir, REPORT_FILE);
  if (values.update) {
    writeFileSync(reportPath, text);
    console.log(`${name}: wrote ${REPORT_FILE}`);
    continue;
  }
  const committed = readCommitted(reportPath);
  if (committed === text) {
    console.log(`${name}: the public API matches ${REPORT_FILE}`);
    continue;
  }
  failed = true;
  console.error(
    `${name}: the public API differs from ${REPORT_FILE} (- checked in, + now). If the change is meant, run ` +
      "`pnpm check:api --update`, commit the report, and version it as the package's README says:",
  );
  console.error(diff(committed ?? "", text));
}
process.exit(failed ? 1 : 0);

function readCommitted(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** A unified diff of two texts, from the system's diff. */
function diff(before: string, after: string): string {
  const dir = mkdtempSync(join(tmpdir(), "api-report-"));
  try {
    writeFileSync(join(dir, "checked-in"), before);
    writeFileSync(join(dir, "now"), after);
    execFileSync("diff", ["-u", "checked-in", "now"], { cwd: dir, encoding: "utf8" });
    return "";
  } catch (error) {
    return String((error as { stdout?: string }).stdout ?? error);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
