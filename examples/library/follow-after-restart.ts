// Follows a job's output, closes the manager half-way (as a program that
// restarts would), opens a new one on the same state dir, and follows the
// re-adopted job on from the byte offset where it stopped: no gap, no repeat.
// Run as root: node follow-after-restart.ts
import { JobManager, type JobManagerOptions } from "@jobworker/core";

const options: JobManagerOptions = {
  stateDir: process.env.STATE_DIR ?? "/var/lib/follow-after-restart",
  cgroupParent: process.env.CGROUP_PARENT ?? "follow-after-restart",
  uidRange: { first: Number(process.env.UID_FIRST ?? 302_048), count: 1024 },
};

let manager = await JobManager.open(options);
const job = await manager.forOwner().start({
  command: "sh",
  args: ["-c", "for i in $(seq 1 20); do echo line $i; sleep 0.2; done"],
});

// Read until the first three lines are in, remembering the offset after the last byte read.
let offset = 0;
let lines = 0;
for await (const chunk of manager.forOwner().openOutput(job.id, { follow: true })) {
  process.stdout.write(chunk.data);
  offset = chunk.offset + chunk.data.length;
  lines += chunk.data.filter((byte) => byte === 0x0a).length;
  if (lines >= 3) break; // leaving the loop releases the reader
}

// Closing the manager leaves the job running: its launcher owns it, not this process.
await manager.close();
console.log(`-- manager closed at offset ${offset}`);

// A restarted program does the same: open a manager on the same state dir.
manager = await JobManager.open(options);
const jobs = manager.forOwner();
console.log(`-- reopened: the job is ${jobs.get(job.id).state}`);
try {
  for await (const chunk of jobs.openOutput(job.id, { fromOffset: offset, follow: true })) {
    process.stdout.write(chunk.data);
  }
  const ended = await jobs.wait(job.id);
  console.log(`-- ${ended.endReason}, exit code ${ended.exitCode}, ${ended.outputBytes} bytes`);
  await jobs.delete(job.id);
} finally {
  await manager.close();
}
