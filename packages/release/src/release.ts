import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildDeb } from "./deb.js";
import { REPO_ROOT } from "./paths.js";
import { serverVersion, stageRoot } from "./stage.js";
import { buildTarball } from "./tarball.js";

/** The artifacts of one release. */
export interface Release {
  version: string;
  deb: string;
  tarball: string;
}

/** Builds the .deb and the tarball into `outDir` (the workspace must be built: `pnpm build`). */
export async function buildRelease(outDir: string): Promise<Release> {
  const version = await serverVersion();
  await mkdir(outDir, { recursive: true });
  const root = await mkdtemp("/var/tmp/jobworker-release-");
  try {
    await stageRoot(root, version);
    const tarball = buildTarball(root, version, outDir);
    const deb = await buildDeb(root, version, outDir);
    return { version, deb, tarball };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const { values } = parseArgs({ options: { out: { type: "string" } } });
  const release = await buildRelease(resolve(values.out ?? join(REPO_ROOT, "dist")));
  process.stdout.write(`jobworker ${release.version}:\n  ${release.deb}\n  ${release.tarball}\n`);
}
