import { realpathSync, statSync } from "node:fs";
import { isAbsolute, posix } from "node:path";
import type { ExposedPath } from "@jobworker/helper";
import { invalidArgument } from "../errors.js";

/**
 * What a job sees of the filesystem is an allow-list, built by the launcher
 * (packages/helper/src/launcher/filesystem.c). This module is its policy: the
 * host directories every job sees, where the job's own directories appear, and
 * which paths an operator may expose on top.
 */

/** Host directories every job sees read-only, where the host has them. */
export const SYSTEM_DIRS: readonly string[] = [
  "/usr",
  "/bin",
  "/sbin",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/etc",
  "/opt",
];

/** The job's private, writable work dir in its view: its default working directory and HOME. */
export const JOB_WORK_DIR = "/work";

/** Directories that are the job's own (fresh, never the host's): they cannot be exposed. */
const JOB_OWN_DIRS: readonly string[] = [JOB_WORK_DIR, "/tmp", "/run", "/dev", "/proc", "/sys"];

const isWithin = (path: string, dir: string) => path === dir || path.startsWith(dir === "/" ? "/" : `${dir}/`);

/**
 * True when `path` names a place in the job's view: the root, a system dir, the
 * job's own dirs, or an exposed path (or anything below them). Purely lexical:
 * it tells nothing about what exists on the host.
 */
export function isInJobView(path: string, exposed: readonly ExposedPath[]): boolean {
  if (path === "/") return true;
  const roots = [...SYSTEM_DIRS, ...JOB_OWN_DIRS, ...exposed.map((entry) => entry.path)];
  return roots.some((root) => isWithin(path, root));
}

/** Checks a requested working directory against the view; existence and access are the launcher's to find out. */
export function checkWorkingDirectory(path: string, exposed: readonly ExposedPath[]): void {
  if (!isAbsolute(path) || posix.normalize(path) !== path || (path.length > 1 && path.endsWith("/"))) {
    throw invalidArgument(`working directory ${JSON.stringify(path)} must be an absolute, normalized path`);
  }
  if (!isInJobView(path, exposed)) {
    const visible = [...SYSTEM_DIRS, ...JOB_OWN_DIRS.slice(0, 3), ...exposed.map((entry) => entry.path)].join(", ");
    throw invalidArgument(
      `working directory ${path} is outside the job's view, which holds ${visible}; ` +
        "an operator can make a host path visible with the server's --expose",
    );
  }
}

/** The one message for a working directory the job's user cannot enter, whatever the reason: no oracle. */
export function workingDirectoryRefused(path: string): Error {
  return invalidArgument(
    `working directory ${path} cannot be entered by the job's user: it is missing from the job's view, ` +
      "not a directory, or not accessible to that user",
  );
}

/**
 * Checks the paths an operator exposes: each must exist, be given as its real
 * path (no symlink on the way, so the job sees it where it is named), be
 * neither the root nor one of the job's own dirs, and not hold the state dir.
 * Returns them parents first, the order in which they must be mounted.
 */
export function checkExposedPaths(paths: readonly ExposedPath[], stateDir: string): ExposedPath[] {
  const seen = new Set<string>();
  for (const { path } of paths) {
    const where = `exposed path ${JSON.stringify(path)}`;
    if (!isAbsolute(path)) throw new Error(`${where} must be absolute`);
    let real: string;
    try {
      real = realpathSync(path);
      statSync(real);
    } catch (error) {
      throw new Error(`${where} cannot be read: ${(error as Error).message}`);
    }
    if (real !== path) throw new Error(`${where} must be given as its real path, ${real}`);
    if (path === "/") throw new Error(`${where}: the host's root cannot be exposed`);
    const own = JOB_OWN_DIRS.find((dir) => isWithin(path, dir) || isWithin(dir, path));
    if (own) throw new Error(`${where} overlaps the job's own ${own}`);
    if (isWithin(stateDir, path) || isWithin(path, stateDir)) {
      throw new Error(`${where} overlaps the state dir ${stateDir}, which jobs must never see`);
    }
    if (seen.has(path)) throw new Error(`${where} is exposed twice`);
    seen.add(path);
  }
  return [...paths].sort((a, b) => a.path.length - b.path.length);
}
