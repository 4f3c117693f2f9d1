import type { Job } from "../job.js";

/** A job record for unit tests that need no real job: `/bin/true` of alice's, starting, with `changes` on top. */
export function jobRecord(changes: Partial<Job> = {}): Job {
  return {
    id: "00000000-0000-4000-8000-000000000000",
    owner: "alice",
    command: "true",
    executable: "/bin/true",
    args: [],
    workingDirectory: "/work",
    limits: {},
    state: "starting",
    oomKilled: false,
    createdAt: 0,
    outputBytes: 0,
    uid: 200_000,
    ...changes,
  };
}
