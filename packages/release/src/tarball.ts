import { execFileSync } from "node:child_process";
import { join } from "node:path";

/**
 * Makes jobworker-<version>-linux-x64.tar.gz in `outDir` from a staged root,
 * for distributions without dpkg: paths are relative to `/` (extract with
 * `tar -xzf … -C /`), owned by root, and the same as the .deb's.
 */
export function buildTarball(root: string, version: string, outDir: string): string {
  const tarball = join(outDir, `jobworker-${version}-linux-x64.tar.gz`);
  execFileSync("tar", [
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    "--exclude=./DEBIAN",
    "-czf",
    tarball,
    "-C",
    root,
    ".",
  ]);
  return tarball;
}
