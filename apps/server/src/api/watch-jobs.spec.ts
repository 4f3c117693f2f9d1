import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { JobEventSchema, JobEventType, JobSchema, JobState, WatchJobsResponseSchema } from "@jobworker/proto";
import { describe, expect, it } from "vitest";
import { attachedFrame } from "./enveloped-binary.js";
import { responseOf } from "./watch-jobs.js";

/** A change of a job with `args` arguments: a few bytes, or a few hundred (two-byte lengths). */
function event(revision: number, args: number) {
  return create(JobEventSchema, {
    type: JobEventType.ENDED,
    revision: BigInt(revision),
    job: create(JobSchema, {
      id: `job-${revision}`,
      owner: "alice",
      command: "/bin/sh",
      args: Array.from({ length: args }, (_, i) => `argument ${i} ü`),
      state: JobState.SUCCEEDED,
      exitCode: 0,
      createTime: timestampFromMs(1_700_000_000_123),
      outputBytes: 12_345n,
    }),
  });
}

describe("WatchJobs responses", () => {
  const batches = [
    [event(1, 0)],
    [event(2, 1), event(3, 40), event(4, 3)],
    Array.from({ length: 30 }, (_, i) => event(i, i)),
  ];

  it.each(["", "6b1c3c64-5bd2-4f43-9a3f-1f8f3f0b2a11"])(
    "carry what protobuf-es encodes, behind 5 free bytes (epoch %j)",
    (epoch) => {
      for (const events of [[], ...batches]) {
        const response = responseOf(events, epoch);
        const frame = attachedFrame(response);
        expect(frame).toBeInstanceOf(Uint8Array);
        const expected = toBinary(
          WatchJobsResponseSchema,
          create(WatchJobsResponseSchema, { events, serverEpoch: epoch }),
        );
        expect(Buffer.from(frame?.subarray(5) ?? [])).toEqual(Buffer.from(expected));
        // The message itself is whole, for JSON clients.
        expect(response.events).toEqual(events);
        expect(response.serverEpoch).toBe(epoch);
      }
    },
  );
});
