import { Code, ConnectError } from "@connectrpc/connect";
import { JobState } from "@jobworker/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type JobClient, type ServedTestServer, startServedTestServer } from "../testing/test-server.js";

const needsRoot = process.getuid?.() !== 0;

async function failureOf(call: Promise<unknown>): Promise<{ code: Code; message: string } | "ok"> {
  try {
    await call;
    return "ok";
  } catch (error) {
    const { code, rawMessage } = ConnectError.from(error);
    return { code, message: rawMessage };
  }
}

describe.skipIf(needsRoot)("one user against everyone else: quotas, grace and pages (needs root: real jobs)", () => {
  let served: ServedTestServer;
  let alice: JobClient;
  let bob: JobClient;
  let admin: JobClient;
  const sleeper = async (client: JobClient) =>
    (await client.startJob({ command: "/bin/sh", args: ["-c", "trap '' TERM; sleep 1000"] })).job?.id ?? "";

  beforeAll(async () => {
    served = await startServedTestServer([
      ...["--max-running-jobs-per-owner", "2", "--max-running-jobs-per-admin", "4"],
      ...["--max-grace", "2s"],
    ]);
    ({ alice, bob, admin } = served);
  });
  afterAll(() => served.dispose());

  it("a user's running jobs stop at its quota, with the quota named; other users and admins still start", async () => {
    await sleeper(alice);
    await sleeper(alice);
    expect(await failureOf(alice.startJob({ command: "/bin/true" }))).toEqual({
      code: Code.ResourceExhausted,
      message: expect.stringMatching(/alice already has 2 active jobs.*max active jobs 2/),
    });
    expect(await sleeper(bob)).not.toBe("");
    for (let i = 0; i < 4; i++) await sleeper(admin); // an admin's quota is larger
    expect(await failureOf(admin.startJob({ command: "/bin/true" }))).toMatchObject({ code: Code.ResourceExhausted });
    await admin.cleanJobs({ allOwners: true });
  });

  it("a grace past the server's maximum is INVALID_ARGUMENT, and an admin's stop ends a job a user's long stop holds", async () => {
    const id = await sleeper(alice);
    expect(await failureOf(alice.stopJob({ id, gracePeriod: { seconds: 2_147_483n, nanos: 0 } }))).toEqual({
      code: Code.InvalidArgument,
      message: expect.stringMatching(/grace must be between 0 and 2000 ms/),
    });
    const userStop = alice.stopJob({ id, gracePeriod: { seconds: 2n, nanos: 0 } });
    const adminStop = await admin.stopJob({ id, gracePeriod: { seconds: 0n, nanos: 0 } });
    expect(adminStop.job).toMatchObject({ state: JobState.ENDED, signal: 9 });
    expect((await userStop).job?.endTime).toEqual(adminStop.job?.endTime);
  });

  it("lists in pages, and refuses a page too large", async () => {
    await alice.cleanJobs({});
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = (await alice.startJob({ command: "/bin/true" })).job?.id ?? "";
      await alice.waitJob({ id });
      ids.push(id);
    }
    const first = await alice.listJobs({ pageSize: 2 });
    expect(first.jobs.map((job) => job.id)).toEqual(ids.slice(0, 2));
    const second = await alice.listJobs({ pageSize: 2, pageToken: first.nextPageToken });
    expect(second.jobs.map((job) => job.id)).toEqual(ids.slice(2));
    expect(second.nextPageToken).toBe("");
    expect(await failureOf(alice.listJobs({ pageSize: 5000 }))).toMatchObject({ code: Code.InvalidArgument });
    expect(await failureOf(alice.listJobs({ pageToken: "garbage" }))).toMatchObject({ code: Code.InvalidArgument });
  });
});
