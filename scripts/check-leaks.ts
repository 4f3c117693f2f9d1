// Run after the test suite: fails if jobs, cgroups, mounts or temp dirs outlived the tests.
import { readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";

const problems: string[] = [];

for (const pid of (await readdir("/proc")).filter((entry) => /^\d+$/.test(entry))) {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  if (cmdline.includes("jobworker-launcher")) problems.push(`process ${pid}: ${cmdline.replaceAll("\0", " ").trim()}`);
  // The terminal tests' tmux servers (apps/cli/src/testing/tmux.ts), each on a socket of its own.
  if (cmdline.startsWith("tmux\0-L\0jobworker-test-"))
    problems.push(`process ${pid}: ${cmdline.replaceAll("\0", " ").trim()}`);
  // The fleet tests' redis-server (testkit's RedisServer) runs in its /var/tmp/jobworker-test-redis-* data dir
  // (redis rewrites its command line, so its working directory tells).
  if (cmdline.includes("redis-server")) {
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => "");
    if (cwd.startsWith("/var/tmp/jobworker-"))
      problems.push(`process ${pid}: ${cmdline.replaceAll("\0", " ").trim()} in ${cwd}`);
  }
}

for (const hierarchy of await readdir("/sys/fs/cgroup").catch(() => [])) {
  const dir = join("/sys/fs/cgroup", hierarchy);
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory() && /^jobworker-(test|demo)/.test(entry.name))
      problems.push(`cgroup ${join(dir, entry.name)}`);
  }
}

const mounts = await readFile("/proc/self/mountinfo", "utf8");
for (const line of mounts.split("\n").filter((l) => l.includes("jobworker"))) problems.push(`mount: ${line}`);

for (const entry of await readdir("/var/tmp")) {
  if (entry.startsWith("jobworker-")) problems.push(`temp dir /var/tmp/${entry}`);
}

if (problems.length > 0) {
  console.error(`leak check failed: the tests left behind\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log("leak check: no launcher processes, job cgroups, mounts or temp dirs left behind");
