import { execFile } from "node:child_process";
import { copyFile, cp, mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testTempDir } from "./testing/temp-manager.js";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "../../..");
/** The project's Node 22: the check is a TypeScript script run by type stripping. */
const node = join(root, "node_modules/.bin/node");

/** Runs `pnpm check:api`'s script on one package; resolves with its exit code and output. */
async function checkApi(packageDir: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(node, [join(root, "scripts/check-api.ts"), "--package", packageDir]);
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

describe("the public API report (pnpm check:api)", () => {
  /** A copy of this package, laid out as in the repository, with its own sources to change. */
  let copy: string;
  let copiedPackage: string;

  beforeAll(async () => {
    copy = await testTempDir("jobworker-api-report-");
    copiedPackage = join(copy, "packages/core");
    await mkdir(copiedPackage, { recursive: true });
    await copyFile(join(root, "tsconfig.base.json"), join(copy, "tsconfig.base.json"));
    const here = join(root, "packages/core");
    for (const file of ["package.json", "tsconfig.json", "tsconfig.build.json", "api-report.d.ts"]) {
      await copyFile(join(here, file), join(copiedPackage, file));
    }
    await cp(join(here, "src"), join(copiedPackage, "src"), { recursive: true });
    // The same dependencies (node's types, the helper's built declarations) as the package itself.
    await symlink(join(here, "node_modules"), join(copiedPackage, "node_modules"));
  });

  afterAll(async () => {
    await rm(copy, { recursive: true, force: true });
  });

  it("passes on this package as it is: the checked-in report is its API", async () => {
    const { code, output } = await checkApi(join(root, "packages/core"));
    expect(output).toContain("the public API matches api-report.d.ts");
    expect(code).toBe(0);
  });

  it("passes on an unchanged copy of the package, and fails once an export is removed, naming it", async () => {
    expect((await checkApi(copiedPackage)).code).toBe(0);
    const index = join(copiedPackage, "src/index.ts");
    const source = await readFile(index, "utf8");
    const without = source.replace(
      'export { DEFAULT_OWNER, OwnerJobs } from "./owner-jobs.js";',
      'export { OwnerJobs } from "./owner-jobs.js";',
    );
    expect(without).not.toBe(source);
    await writeFile(index, without);
    const { code, output } = await checkApi(copiedPackage);
    expect(code).toBe(1);
    expect(output).toContain("the public API differs from api-report.d.ts");
    expect(output).toMatch(/^-export const DEFAULT_OWNER = "local";$/m);
  });

  it("fails when an exported type names a type the entry does not export", async () => {
    const index = join(copiedPackage, "src/index.ts");
    const source = await readFile(join(root, "packages/core/src/index.ts"), "utf8");
    await writeFile(index, source.replace('export type { JobPage } from "./listing.js";\n', ""));
    const { code, output } = await checkApi(copiedPackage);
    expect(code).toBe(1);
    expect(output).toContain("JobManager refers to JobPage, which dist/index.d.ts does not export");
  });

  it("fails when an export has no TSDoc comment", async () => {
    await copyFile(join(root, "packages/core/src/index.ts"), join(copiedPackage, "src/index.ts"));
    const errors = join(copiedPackage, "src/errors.ts");
    const source = await readFile(join(root, "packages/core/src/errors.ts"), "utf8");
    const undocumented = source.replace("/** Narrows an unknown thrown value to a JobError. */\n", "");
    expect(undocumented).not.toBe(source);
    await writeFile(errors, undocumented);
    const { code, output } = await checkApi(copiedPackage);
    expect(code).toBe(1);
    expect(output).toContain("isJobError has no TSDoc comment");
  });
});
