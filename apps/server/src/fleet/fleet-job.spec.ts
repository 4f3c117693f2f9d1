import { create } from "@bufbuild/protobuf";
import { EndReason, JobSchema, JobState, StartJobRequestSchema } from "@jobworker/proto";
import { describe, expect, it } from "vitest";
import { type FleetJobData, type FleetRecord, fleetJobToProto, requestToData } from "./fleet-job.js";

const request = create(StartJobRequestSchema, { command: "make", args: ["test"], queue: "default", attempts: 2 });
const record = (overrides: Partial<Omit<FleetRecord, "data">> & { data?: Partial<FleetJobData> }): FleetRecord => ({
  id: "00000000-0000-4000-8000-000000000001",
  queue: "default",
  state: "waiting",
  createdAt: 1_700_000_000_000,
  ...overrides,
  data: { owner: "alice", role: "user", request: requestToData(request), attempts: 2, runs: [], ...overrides.data },
});
const run = (attempt: number, host: string, lost?: string) => ({
  attempt,
  host,
  address: `${host}:8443`,
  jobId: `local-${attempt}`,
  lost,
});

describe("a fleet job as the API shows it", () => {
  it("is QUEUED with its request and owner, and no host, while it waits", () => {
    const job = fleetJobToProto(record({}), request);
    expect(job).toMatchObject({ state: JobState.QUEUED, owner: "alice", command: "make", args: ["test"], host: "" });
    expect(job).toMatchObject({ queue: "default", maxAttempts: 2, attempt: 0 });
  });

  it("stores the request without its fleet fields", () => {
    expect(requestToData(request)).toEqual({ command: "make", args: ["test"] });
  });

  it("carries its host's final record under the fleet id, with earlier lost attempts", () => {
    const ended = create(JobSchema, {
      id: "local-2",
      owner: "alice",
      state: JobState.ENDED,
      endReason: EndReason.EXITED,
    });
    const job = fleetJobToProto(
      record({ state: "completed", data: { runs: [run(1, "a", "lost: a went away"), run(2, "b")] } }),
      request,
      ended,
    );
    expect(job).toMatchObject({ id: "00000000-0000-4000-8000-000000000001", host: "b", attempt: 2 });
    expect(job).toMatchObject({ attemptJobId: "local-2", endReason: EndReason.EXITED });
    expect(job.previousAttempts).toHaveLength(1);
    expect(job.previousAttempts[0]).toMatchObject({ attempt: 1, host: "a", endReason: EndReason.LOST });
  });

  it("is ENDED and LOST, naming the host, when its last attempt was lost and none is left", () => {
    const job = fleetJobToProto(
      record({
        state: "failed",
        failedReason: "lost",
        data: { runs: [run(1, "a", "lost: a went away"), run(2, "c", "lost: c went away")] },
      }),
      request,
    );
    expect(job).toMatchObject({ state: JobState.ENDED, endReason: EndReason.LOST, host: "c", attempt: 2 });
    expect(job.endDetail).toBe("lost: c went away");
    expect(job.previousAttempts.map((attempt) => attempt.host)).toEqual(["a"]);
  });

  it("is ENDED and STOPPED once stopped while queued", () => {
    const job = fleetJobToProto(record({ data: { stopped: true } }), request);
    expect(job).toMatchObject({ state: JobState.ENDED, endReason: EndReason.STOPPED });
  });
});
