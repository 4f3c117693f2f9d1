import { execFile } from "node:child_process";
import { copyFile, mkdir, readdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The repository's root, and the project's Node 22 (the system's may be older). */
export const REPO_ROOT = resolve(import.meta.dirname, "../..");
export const PROJECT_NODE = join(REPO_ROOT, "node_modules/.bin/node");
const PNPM = join(REPO_ROOT, "node_modules/.bin/pnpm");
export const EXAMPLES_DIR = join(REPO_ROOT, "examples/library");

/** The packages a library user installs, by their directory in the repository. */
export const PACKAGES = { "@jobworker/core": "packages/core", "@jobworker/helper": "packages/helper" } as const;

/** `pnpm pack`s a workspace package into `destination` and returns the tarball's path. */
export async function pack(packageDir: string, destination: string): Promise<string> {
  const { stdout } = await run(PNPM, ["pack", "--pack-destination", destination], {
    cwd: join(REPO_ROOT, packageDir),
  });
  const tarball = stdout.trim().split("\n").pop() ?? "";
  if (!tarball.endsWith(".tgz")) throw new Error(`pnpm pack printed no tarball: ${stdout}`);
  return resolve(destination, tarball);
}

/** The files in a tarball, with their modes: "-rwxr-xr-x package/dist/jobworker-launcher". */
export async function tarballFiles(tarball: string): Promise<string[]> {
  const { stdout } = await run("tar", ["tvzf", tarball]);
  return stdout
    .trim()
    .split("\n")
    .map((line) => {
      const fields = line.split(/\s+/);
      return `${fields[0]} ${fields[fields.length - 1]}`;
    });
}

/**
 * Makes an empty program directory, installs the tarballs there with npm,
 * offline (nothing may come from a registry: the packages have no other
 * dependencies) and with a cache of its own, and copies the examples in.
 */
export async function installInto(appDir: string, tarballs: readonly string[]): Promise<void> {
  await mkdir(appDir);
  await writeFile(
    join(appDir, "package.json"),
    JSON.stringify({ name: "library-user", private: true, type: "module" }),
  );
  await run("npm", ["install", "--offline", "--no-audit", "--no-fund", ...tarballs], {
    cwd: appDir,
    env: { PATH: "/usr/bin:/bin", HOME: appDir, npm_config_cache: join(appDir, ".npm-cache") },
  });
  for (const file of await readdir(EXAMPLES_DIR)) await copyFile(join(EXAMPLES_DIR, file), join(appDir, file));
}

/** Runs `node <args>` in `appDir` with the project's Node, a bare PATH and `env`: nothing of the repository's. */
export async function runNode(
  appDir: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  return run(PROJECT_NODE, [...args], { cwd: appDir, env: { PATH: "/usr/bin:/bin", ...env }, timeout: 120_000 });
}
