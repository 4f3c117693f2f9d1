import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { ERROR_CODE_KEY, type JobEvent, JobEventType, JobState, type WatchJobsResponse } from "@jobworker/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  clientFor,
  type JobClient,
  type ServedTestServer,
  startServedTestServer,
  startTestServer,
} from "../testing/test-server.js";

const needsRoot = process.getuid?.() !== 0;

async function failure(call: Promise<unknown>): Promise<{ code: Code | "ok"; errorCode?: string | null }> {
  try {
    await call;
    return { code: "ok" };
  } catch (error) {
    const connect = ConnectError.from(error);
    return { code: connect.code, errorCode: connect.metadata.get(ERROR_CODE_KEY) };
  }
}

/** One event of a watch, with the epoch of the response that carried it. */
type SeenEvent = JobEvent & { serverEpoch: string };

/** Events of a watch, response by response, until `done` says so; fails after `ms`. */
async function responsesUntil(
  stream: AsyncIterator<WatchJobsResponse>,
  done: (seen: SeenEvent[]) => boolean,
  ms = 30_000,
): Promise<SeenEvent[]> {
  const seen: SeenEvent[] = [];
  const deadline = Date.now() + ms;
  while (!done(seen)) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`watch: nothing fitting within ${ms} ms`)), deadline - Date.now());
    });
    const next = await Promise.race([stream.next(), late]).finally(() => clearTimeout(timer));
    if (next.done) break;
    const { serverEpoch } = next.value;
    seen.push(...next.value.events.map((event) => ({ ...event, serverEpoch })));
  }
  return seen;
}

describe.skipIf(needsRoot)("names, labels, WatchJobs and live usage over the API (needs root: real jobs)", () => {
  let served: ServedTestServer;
  let alice: JobClient;
  let bob: JobClient;

  beforeAll(async () => {
    served = await startServedTestServer(["--max-jobs", "30"]);
    ({ alice, bob } = served);
  });
  afterAll(() => served.dispose());

  it("a job carries its name and labels; a second job of the same owner and name is ALREADY_EXISTS", async () => {
    const { job } = await alice.startJob({ command: "/bin/true", name: "build-42", labels: { team: "infra" } });
    expect(job).toMatchObject({ name: "build-42", labels: { team: "infra" } });
    expect(await failure(alice.startJob({ command: "/bin/true", name: "build-42" }))).toEqual({
      code: Code.AlreadyExists,
      errorCode: "JW_ERR_ALREADY_EXISTS",
    });
    // Names belong to their owner: bob may use the same one.
    const bobs = await bob.startJob({ command: "/bin/true", name: "build-42" });
    expect(bobs.job?.name).toBe("build-42");
    expect(await failure(alice.startJob({ command: "/bin/true", labels: { "bad key": "x" } }))).toMatchObject({
      code: Code.InvalidArgument,
    });
    expect(await failure(alice.startJob({ command: "/bin/true", name: "-x" }))).toMatchObject({
      code: Code.InvalidArgument,
    });
    const listed = await alice.listJobs({ labelSelector: "team=infra" });
    expect(listed.jobs.map((listedJob) => listedJob.id)).toEqual([job?.id]);
    expect(await failure(alice.listJobs({ labelSelector: `team=${"x".repeat(64)}` }))).toMatchObject({
      code: Code.InvalidArgument,
    });
    await alice.waitJob({ id: job?.id ?? "" });
    await bob.waitJob({ id: bobs.job?.id ?? "" });
    expect((await alice.cleanJobs({ labelSelector: "team=infra", endedOnly: true })).deletedCount).toBe(1);
    await bob.cleanJobs({});
  });

  it("WatchJobs sends a snapshot, then each change of the caller's own jobs; a resume after a restart gets a fresh snapshot marked reset", async () => {
    const controller = new AbortController();
    const stream = alice.watchJobs({}, { signal: controller.signal })[Symbol.asyncIterator]();
    const opening = await responsesUntil(stream, (seen) => seen.at(-1)?.type === JobEventType.SYNCED);
    expect(opening.at(-1)?.reset).toBe(false);
    await bob.startJob({ command: "/bin/true" });
    const { job } = await alice.startJob({ command: "/bin/sh", args: ["-c", "exit 3"], labels: { w: "1" } });
    const changes = await responsesUntil(stream, (seen) => seen.at(-1)?.type === JobEventType.ENDED);
    // Only alice's job: bob's never shows.
    expect(changes.map((change) => [change.type, change.job?.id])).toEqual([
      [JobEventType.CREATED, job?.id],
      [JobEventType.RUNNING, job?.id],
      [JobEventType.ENDED, job?.id],
    ]);
    expect(changes.at(-1)?.job).toMatchObject({ state: JobState.ENDED, exitCode: 3, labels: { w: "1" } });
    const last = changes.at(-1);
    controller.abort();
    // A resume in the same run goes on after the last change: the next one is the delete.
    const resumed = alice
      .watchJobs({ serverEpoch: last?.serverEpoch, afterRevision: last?.revision })
      [Symbol.asyncIterator]();
    await alice.deleteJob({ id: job?.id ?? "" });
    const next = await responsesUntil(resumed, (seen) => seen.length === 1);
    expect(next.map((change) => [change.type, change.job?.id])).toEqual([[JobEventType.DELETED, job?.id]]);
    await resumed.return?.();
    // After a restart, the same resume point starts over with a snapshot marked reset.
    await served.server.close();
    // The new server gets a cgroup parent of its own; the old one's is empty (no job runs) and goes now.
    await served.server.manager.removeCgroupParent();
    const restarted = await startTestServer(served.pki, served.config);
    served.server = restarted.server;
    alice = clientFor(restarted.server, served.pki, served.pki.clients.alice);
    bob = clientFor(restarted.server, served.pki, served.pki.clients.bob);
    const fresh = alice
      .watchJobs({ serverEpoch: last?.serverEpoch, afterRevision: last?.revision })
      [Symbol.asyncIterator]();
    const snapshot = await responsesUntil(fresh, (seen) => seen.at(-1)?.type === JobEventType.SYNCED);
    expect(snapshot.at(-1)).toMatchObject({ reset: true });
    expect(snapshot.at(-1)?.serverEpoch).not.toBe(last?.serverEpoch);
    await fresh.return?.();
    await bob.cleanJobs({});
  });

  it("WatchJobs filters by owner for admins only, and by state and labels", async () => {
    // A client of the server now running: an earlier test restarted it.
    const admin = clientFor(served.server, served.pki, served.pki.clients.admin);
    const controller = new AbortController();
    const asAdmin = admin
      .watchJobs({ owner: "bob", labelSelector: "f=1" }, { signal: controller.signal })
      [Symbol.asyncIterator]();
    await responsesUntil(asAdmin, (seen) => seen.at(-1)?.type === JobEventType.SYNCED);
    await alice.startJob({ command: "/bin/true", labels: { f: "1" } });
    await bob.startJob({ command: "/bin/true", labels: { f: "2" } });
    const { job } = await bob.startJob({ command: "/bin/true", labels: { f: "1" } });
    const seen = await responsesUntil(asAdmin, (events) => events.at(-1)?.type === JobEventType.ENDED);
    expect(new Set(seen.map((event) => event.job?.id))).toEqual(new Set([job?.id]));
    controller.abort();
    const refused = await failure(alice.watchJobs({ owner: "bob" })[Symbol.asyncIterator]().next());
    expect(refused).toEqual({ code: Code.PermissionDenied, errorCode: "JW_ERR_ADMIN_ONLY" });
    expect(await failure(alice.watchJobs({ labelSelector: "a=b=c" })[Symbol.asyncIterator]().next())).toMatchObject({
      code: Code.InvalidArgument,
    });
    await alice.cleanJobs({});
    await bob.cleanJobs({});
  });

  it("GetJob shows a running job's usage live, and WatchUsage samples it at the interval asked (at least 250 ms)", async () => {
    const { job } = await alice.startJob({ command: "/bin/sh", args: ["-c", "echo hi; exec sleep 60"] });
    const id = job?.id ?? "";
    const got = await alice.getJob({ id });
    expect(got.job?.usage?.sampleTime).toBeDefined();
    expect(got.job?.usage?.pidsCurrent).toBeGreaterThanOrEqual(1);
    expect(got.job?.usage?.memoryCurrentBytes).toBeGreaterThan(0n);
    expect(
      await failure(
        alice
          .watchUsage({ interval: durationFromMs(100) })
          [Symbol.asyncIterator]()
          .next(),
      ),
    ).toMatchObject({ code: Code.InvalidArgument });
    const controller = new AbortController();
    const samples = alice.watchUsage({ ids: [id], interval: durationFromMs(250) }, { signal: controller.signal });
    const iterator = samples[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value?.jobs.map((sampled: { id: string }) => sampled.id)).toEqual([id]);
    // Another owner's job is NOT_FOUND, as a missing one.
    expect(
      await failure(
        bob
          .watchUsage({ ids: [id] })
          [Symbol.asyncIterator]()
          .next(),
      ),
    ).toMatchObject({
      code: Code.NotFound,
    });
    controller.abort();
    await alice.stopJob({ id, gracePeriod: durationFromMs(0) });
    const ended = await alice.getJob({ id });
    expect(ended.job?.usage?.sampleTime).toBeUndefined();
    expect(ended.job?.usage?.outputBytes).toBe(3n);
  });
});
