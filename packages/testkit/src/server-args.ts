import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { testUidRange } from "./uid-range.js";

let counter = 0;

/** A fresh state dir for a test server, under `tmpDir` (not /tmp: every job gets its own /tmp). */
export function testStateDir(tmpDir = "/var/tmp"): Promise<string> {
  return mkdtemp(join(tmpDir, "jobworker-test-state-"));
}

/** A cgroup parent of its own for a test server, named with this process's pid so a leak names its owner. */
export function testCgroupParent(): string {
  return `jobworker-test-server-${process.pid}-${counter++}`;
}

/**
 * The jobworker-server flags every test server runs with, whether it runs as
 * a process or in the test's own: its ports (default ephemeral), the PKI in
 * `certs` (as written by writeDevPki: ca.crt, server.crt, server.key), its own
 * state dir, cgroup parent and job uid range, and a 2 s grace period so stops
 * in tests end quickly.
 */
export function testServerArgs({
  certs,
  stateDir,
  cgroupParent,
  uidRange = testUidRange(),
  port = 0,
  metricsPort = 0,
}: {
  certs: string;
  stateDir: string;
  cgroupParent: string;
  uidRange?: { first: number; count: number };
  port?: number;
  metricsPort?: number;
}): string[] {
  return [
    ...["--listen", `127.0.0.1:${port}`, "--metrics-listen", `127.0.0.1:${metricsPort}`],
    ...["--tls-cert", join(certs, "server.crt"), "--tls-key", join(certs, "server.key")],
    ...["--client-ca", join(certs, "ca.crt"), "--state-dir", stateDir],
    ...["--cgroup-parent", cgroupParent, "--grace-period-ms", "2000"],
    ...uidRangeArgs(uidRange),
  ];
}

function uidRangeArgs({ first, count }: { first: number; count: number }): string[] {
  return ["--job-uid-first", String(first), "--job-uid-count", String(count)];
}
