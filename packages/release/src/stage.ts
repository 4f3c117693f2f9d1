import { execFileSync } from "node:child_process";
import { chmod, copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { envFileTemplate } from "@jobworker/server";
import { bundleServer } from "./bundle.js";
import { INSTALLED, SOURCES } from "./paths.js";

/**
 * Lays out under `root` every file the server needs on a host, at the path it
 * is installed to: the wrapper, the private Node runtime, the bundled server,
 * the launcher, the systemd unit, the commented config, the docs, and the state
 * dir (0700). The .deb and the tarball are both made from this tree.
 */
export async function stageRoot(root: string, version: string): Promise<void> {
  const at = (path: string) => join(root, path);
  await mkdir(dirname(at(INSTALLED.bundle)), { recursive: true });
  await bundleServer(at(INSTALLED.bundle));
  await chmod(at(INSTALLED.bundle), 0o644); // run by the wrapper, never on its own
  await install(SOURCES.wrapper, at(INSTALLED.wrapper), 0o755);
  await install(SOURCES.node, at(INSTALLED.node), 0o755);
  await install(SOURCES.launcher, at(INSTALLED.launcher), 0o755);
  await install(SOURCES.unit, at(INSTALLED.unit), 0o644);
  await mkdir(at(INSTALLED.configDir), { recursive: true, mode: 0o755 });
  await writeFile(at(INSTALLED.envFile), envFileTemplate(), { mode: 0o644 });
  await mkdir(at(INSTALLED.stateDir), { recursive: true });
  await chmod(at(INSTALLED.stateDir), 0o700);
  for (const doc of SOURCES.docs) await install(doc, join(at(INSTALLED.docDir), basename(doc)), 0o644);
  await install(SOURCES.nodeLicense, join(at(INSTALLED.docDir), "node-LICENSE"), 0o644);
  await writeFile(join(at(INSTALLED.libDir), "VERSION"), `${version}\n`, { mode: 0o644 });
  // Directories readable by all (the state dir excepted), whatever the umask of the build.
  execFileSync("find", [root, "-type", "d", "!", "-path", at(INSTALLED.stateDir), "-exec", "chmod", "0755", "{}", "+"]);
}

/** The version released: the server package's. */
export async function serverVersion(): Promise<string> {
  const parsed: unknown = JSON.parse(await readFile(SOURCES.serverPackage, "utf8"));
  const version = typeof parsed === "object" && parsed && "version" in parsed ? String(parsed.version) : "";
  if (!/^\d+\.\d+\.\d+/.test(version)) throw new Error(`${SOURCES.serverPackage}: no usable version (${version})`);
  return version;
}

async function install(from: string, to: string, mode: number): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  await copyFile(from, to);
  await chmod(to, mode);
}
