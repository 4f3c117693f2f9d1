// Runs ten jobs at once, each under its own CPU, memory, process and disk
// limits, and collects how each ended and what it printed.
// Run as root: node parallel-with-limits.ts
import { JobManager } from "@jobworker/core";

const manager = await JobManager.open({
  stateDir: process.env.STATE_DIR ?? "/var/lib/parallel-with-limits",
  cgroupParent: process.env.CGROUP_PARENT ?? "parallel-with-limits",
  uidRange: { first: Number(process.env.UID_FIRST ?? 301_024), count: 1024 },
});
const jobs = manager.forOwner();

// A request above the manager's maxLimits is refused (invalid_argument), never clamped.
const limits = { cpuMillicores: 250, memoryBytes: 64 * 2 ** 20, maxPids: 32, diskBytes: 16 * 2 ** 20 };

/** Runs one job to its end and returns its result; the job is deleted once read. */
async function run(n: number) {
  const job = await jobs.start({
    command: "sh",
    // Each job writes a file into its private work dir (its disk limit bounds it) and reads it back.
    args: ["-c", `echo $((${n} * ${n})) > square && cat square && exit $((${n} % 3))`],
    limits,
    maxRuntimeMs: 60_000,
  });
  const ended = await jobs.wait(job.id);
  let output = "";
  for await (const chunk of jobs.openOutput(job.id)) output += Buffer.from(chunk.data).toString();
  await jobs.delete(job.id);
  return { n, exitCode: ended.exitCode, output: output.trim() };
}

try {
  const results = await Promise.all(Array.from({ length: 10 }, (_, n) => run(n)));
  for (const { n, exitCode, output } of results) console.log(`job ${n}: printed ${output}, exit code ${exitCode}`);
  const failed = results.filter((result) => result.exitCode !== 0).length;
  console.log(`${results.length} jobs, ${failed} exited non-zero`);
} finally {
  await manager.close();
}
