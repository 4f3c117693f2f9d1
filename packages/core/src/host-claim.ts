import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isSameProcessAlive, processStartTime } from "./lifecycle/process-identity.js";

/** Where the managers on this host claim what they use; a tmpfs, so a reboot clears it. */
export const DEFAULT_CLAIMS_DIR = "/run/jobworker/claims";

/** What one manager uses that no other manager on the host may share. */
export interface HostClaim {
  stateDir: string;
  cgroupParent: string;
  uidRange: { first: number; count: number };
  pid: number;
  startTime: string;
}

/**
 * Claims a state dir, a cgroup parent and a uid range for this process, after
 * checking that no live manager on the host holds any of them: a second
 * manager on the same state dir would record the same jobs twice; one under
 * the same cgroup parent would kill the other's jobs as orphans; one with an
 * overlapping uid range would run jobs that share a uid, and so can signal
 * each other. Claims of processes that are gone are dropped. Returns a
 * function that gives the claim up.
 */
export async function claimHost(
  wanted: Omit<HostClaim, "pid" | "startTime">,
  claimsDir = DEFAULT_CLAIMS_DIR,
): Promise<() => void> {
  mkdirSync(claimsDir, { recursive: true, mode: 0o700 });
  for (const file of readdirSync(claimsDir)) {
    if (!file.endsWith(".json")) continue;
    const path = join(claimsDir, file);
    let other: HostClaim;
    try {
      other = JSON.parse(readFileSync(path, "utf8"));
    } catch {
      continue; // being written, or not ours to judge
    }
    if (!(await isSameProcessAlive(other))) {
      rmSync(path, { force: true });
      continue;
    }
    const clash = clashOf(wanted, other);
    if (clash) {
      throw new Error(
        `${clash} is already used by the jobworker manager of pid ${other.pid} (state dir ${other.stateDir}): ` +
          "stop that one, or give this one its own --state-dir, --cgroup-parent and --job-uid-first",
      );
    }
  }
  const claim: HostClaim = { ...wanted, pid: process.pid, startTime: (await processStartTime(process.pid)) ?? "" };
  const path = join(claimsDir, `${createHash("sha256").update(wanted.stateDir).digest("hex").slice(0, 16)}.json`);
  writeFileSync(`${path}.tmp`, JSON.stringify(claim), { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  return () => rmSync(path, { force: true });
}

/** What two claims share, in words, or undefined. */
export function clashOf(
  a: Omit<HostClaim, "pid" | "startTime">,
  b: Omit<HostClaim, "pid" | "startTime">,
): string | undefined {
  if (a.stateDir === b.stateDir) return `state dir ${a.stateDir}`;
  const nested = (x: string, y: string) => x === y || x.startsWith(`${y}/`);
  if (nested(a.cgroupParent, b.cgroupParent) || nested(b.cgroupParent, a.cgroupParent)) {
    return `cgroup parent ${a.cgroupParent} (or one nested with it, ${b.cgroupParent})`;
  }
  const aEnd = a.uidRange.first + a.uidRange.count;
  const bEnd = b.uidRange.first + b.uidRange.count;
  if (a.uidRange.first < bEnd && b.uidRange.first < aEnd) {
    return `job uid range ${a.uidRange.first}-${aEnd - 1} (overlapping ${b.uidRange.first}-${bEnd - 1})`;
  }
  return undefined;
}
