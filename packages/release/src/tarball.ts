import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { INSTALLED } from "./paths.js";

/**
 * What the tarball holds: jobworker's own paths only, never a directory the
 * host already has (/, /usr, /lib…), whose mode or symlink extraction would change.
 */
export const TARBALL_MEMBERS = [
  INSTALLED.wrapper,
  INSTALLED.libDir,
  INSTALLED.unit,
  INSTALLED.configDir,
  INSTALLED.stateDir,
  INSTALLED.docDir,
];

/**
 * Makes jobworker-<version>-linux-x64.tar.gz in `outDir` from a staged root,
 * for distributions without dpkg: paths are relative to `/` (extract with
 * `tar -xzf … -C /`), owned by root, and the same as the .deb's.
 */
export function buildTarball(root: string, version: string, outDir: string): string {
  const tarball = join(outDir, `jobworker-${version}-linux-x64.tar.gz`);
  execFileSync("tar", ["--owner=0", "--group=0", "--numeric-owner", "-czf", tarball, "-C", root, ...TARBALL_MEMBERS]);
  return tarball;
}
