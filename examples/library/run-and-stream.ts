// Runs one command in an isolated job and prints its output as it comes,
// then how it ended. Run as root: node run-and-stream.ts
import { pipeline } from "node:stream/promises";
import { JobManager } from "@jobworker/core";

// Each manager on a host needs a state dir, a cgroup parent and a uid range
// that no other manager uses; the environment can move them.
const manager = await JobManager.open({
  stateDir: process.env.STATE_DIR ?? "/var/lib/run-and-stream",
  cgroupParent: process.env.CGROUP_PARENT ?? "run-and-stream",
  uidRange: { first: Number(process.env.UID_FIRST ?? 300_000), count: 1024 },
});
// This program runs its own jobs: no owners, no scopes.
const jobs = manager.forOwner();

try {
  const job = await jobs.start({
    command: "sh",
    args: ["-c", 'echo "hello from $(hostname) as uid $(id -u)"; for i in 1 2 3; do echo tick $i; sleep 0.2; done'],
    limits: { memoryBytes: 64 * 2 ** 20, cpuMillicores: 500 },
  });
  // `follow` reads on as the job writes and ends once the job has ended and
  // every byte has been read. `end: false` leaves our stdout open.
  await pipeline(jobs.outputStream(job.id, { follow: true }), process.stdout, { end: false });
  const ended = await jobs.wait(job.id);
  console.log(`${ended.endReason}, exit code ${ended.exitCode}, ${ended.outputBytes} bytes of output`);
  await jobs.delete(job.id);
} finally {
  // Jobs still running would keep running: a new manager re-adopts them.
  await manager.close();
}
