import { join } from "node:path";
import type { LaunchSpec } from "../launch-spec.js";

/**
 * A launch of `argv` as the helper's tests run it: in `jobDir` under
 * `stateDir` (hidden from the job), as `uid`, with a small view of the host,
 * no cgroups and limits of `limitBytes`; `more` overrides any of it.
 */
export function testLaunchSpec(
  where: { stateDir: string; jobDir: string; uid: number; hostname: string; limitBytes: number },
  argv: string[],
  more: Partial<LaunchSpec> = {},
): LaunchSpec {
  return {
    jobDir: where.jobDir,
    logPath: join(where.jobDir, "output.log"),
    executable: argv[0] ?? "",
    argv,
    env: { PATH: "/usr/bin:/bin" },
    workdir: "/work",
    privateDir: "/work",
    hideDir: where.stateDir,
    systemDirs: ["/usr", "/bin", "/lib", "/lib64", "/etc"],
    exposed: [],
    hostname: where.hostname,
    uid: where.uid,
    gid: where.uid,
    diskBytes: where.limitBytes,
    diskInodes: 1024,
    outputLimitBytes: where.limitBytes,
    cgroup1Paths: [],
    ...more,
  };
}
