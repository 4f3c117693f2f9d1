import { execFileSync } from "node:child_process";
import { chmod, copyFile, mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { INSTALLED, SOURCES } from "./paths.js";

/** Debian packages the server's binaries link against; nothing else is needed on the host. */
function depends(): string {
  // The launcher is compiled here, against this host's glibc: it needs at least that version.
  // dpkg-query's own format syntax, not a template string.
  const format = ["-f=$", "{Version}"].join("");
  const libc = execFileSync("dpkg-query", ["-W", format, "libc6"], { encoding: "utf8" });
  const upstream = /^(\d+\.\d+)/.exec(libc)?.[1] ?? "2.28";
  // Node's official build needs glibc 2.28, GLIBCXX_3.4.21 (GCC 5's libstdc++) and libgcc_s.
  return `libc6 (>= ${upstream}), libstdc++6 (>= 5), libgcc-s1 | libgcc1`;
}

/**
 * Makes jobworker_<version>_amd64.deb in `outDir` from a staged root: adds
 * the control file, the conffile list and the maintainer scripts, and builds
 * it with dpkg-deb, files owned by root.
 */
export async function buildDeb(root: string, version: string, outDir: string): Promise<string> {
  const control = join(root, "DEBIAN");
  await mkdir(control, { recursive: true, mode: 0o755 });
  const installedKiB = Number(
    execFileSync("du", ["-sk", "--exclude=DEBIAN", root], { encoding: "utf8" }).split("\t")[0],
  );
  await writeFile(
    join(control, "control"),
    [
      "Package: jobworker",
      `Version: ${version}`,
      "Architecture: amd64",
      "Maintainer: jobworker maintainers <jobworker@localhost>",
      `Installed-Size: ${installedKiB}`,
      `Depends: ${depends()}`,
      "Section: admin",
      "Priority: optional",
      "Description: remote job runner for Linux (server)",
      " jobworker-server runs Linux processes for remote, authenticated users:",
      " isolated in namespaces, limited by cgroups, their output streamed.",
      " Mutual TLS, a private Node runtime and the launcher are included.",
      "",
    ].join("\n"),
    { mode: 0o644 },
  );
  await writeFile(join(control, "conffiles"), `/${INSTALLED.envFile}\n`, { mode: 0o644 });
  for (const script of await readdir(SOURCES.debian)) {
    await copyFile(join(SOURCES.debian, script), join(control, script));
    await chmod(join(control, script), 0o755);
  }
  const deb = join(outDir, `jobworker_${version}_amd64.deb`);
  execFileSync("dpkg-deb", ["--root-owner-group", "-Zgzip", "--build", root, deb], { stdio: "pipe" });
  return deb;
}
