import { cp, mkdtemp, rm } from "node:fs/promises";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { writeDevPki } from "@jobworker/dev-pki";
import { EndReason, type Job, JobState } from "@jobworker/proto";
import { codeOf, type JobClient, metricValue, RedisServer, ServerProcess, within } from "@jobworker/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ON_BEHALF_OF_HEADER } from "../tls/identity.js";

/** Three fleet servers on this machine, each with its own state dir, cgroup parent, uid range, port and host name. */
const HOSTS = ["alpha", "bravo", "charlie"] as const;

let redis: RedisServer;
let pkiDir: string;
const servers = new Map<string, ServerProcess>();

/**
 * Fleet flags: short locks so a dead server's job is found stalled in seconds,
 * and at most 25 jobs a server, so that 60 jobs running at once need all three.
 */
const fleetArgs = (host: string) => [
  ...["--queue-url", redis.url, "--host-name", host],
  ...["--queue-lock-duration", "2s", "--queue-stalled-interval", "1s", "--max-jobs", "25"],
];

beforeAll(async () => {
  redis = await RedisServer.start();
  pkiDir = await mkdtemp("/var/tmp/jobworker-test-fleet-pki-");
  await writeDevPki(pkiDir);
  // One PKI for the fleet: each server's certificate is also its peer certificate.
  const started = await Promise.all(
    HOSTS.map((host) =>
      ServerProcess.start({ writePki: (dir) => cp(pkiDir, dir, { recursive: true }), args: fleetArgs(host) }),
    ),
  );
  for (const [index, host] of HOSTS.entries()) servers.set(host, started[index]!);
}, 120_000);

afterAll(async () => {
  await Promise.all([...servers.values()].map((server) => server.dispose()));
  await redis?.dispose();
  if (pkiDir) await rm(pkiDir, { recursive: true, force: true });
}, 120_000);

const server = (host: string) => servers.get(host)!;
const other = (host: string) => HOSTS.find((name) => name !== host)!;

async function output(client: JobClient, id: string): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of client.streamOutput({ id })) parts.push(chunk.data);
  return Buffer.concat(parts);
}

/** A metric's value for queue "default", 0 when absent. */
function labelled(text: string, name: string): number {
  return Number(new RegExp(`^${name}\\{queue="default"\\} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
}

/** Resolves with the job once its first output byte is out, i.e. a server runs it (follow waits for that). */
async function running(client: JobClient, id: string): Promise<Job> {
  const abort = new AbortController();
  for await (const _ of client.streamOutput({ id, follow: true }, { signal: abort.signal })) {
    abort.abort();
    break;
  }
  return (await client.getJob({ id })).job!;
}

describe("a fleet of three servers on one Redis", () => {
  it("runs 60 jobs submitted through one server on all three, each with its exit code and exact output readable through another server", async () => {
    const submitter = await server("alpha").client("alice");
    const script = 'i=$1; seq 1 $((i * 40)); printf "\\001\\377 job %s\\n" "$i"; sleep 2; exit $((i % 7))';
    const expected = (i: number) =>
      Buffer.concat([
        Buffer.from(Array.from({ length: i * 40 }, (_, n) => `${n + 1}\n`).join("")),
        Buffer.from([1, 255]),
        Buffer.from(` job ${i}\n`),
      ]);
    const submitted = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const { job } = await submitter.startJob({
          command: "sh",
          args: ["-c", script, "sh", String(i)],
          queue: "default",
        });
        expect(job?.state).toBe(JobState.QUEUED);
        expect(job?.owner).toBe("alice");
        return { i, id: job!.id };
      }),
    );
    const waiter = await server("bravo").client("alice");
    const ended = await within(
      90_000,
      Promise.all(submitted.map(async ({ i, id }) => ({ i, job: (await waiter.waitJob({ id })).job! }))),
      "60 fleet jobs",
    );
    const hosts = new Set<string>();
    for (const { i, job } of ended) {
      expect(job.state).toBe(JobState.ENDED);
      expect(job.endReason).toBe(EndReason.EXITED);
      expect(job.exitCode).toBe(i % 7);
      expect(job.attempt).toBe(1);
      expect(HOSTS).toContain(job.host);
      hosts.add(job.host);
      // Read back through a server that did not run it: the call is forwarded to the one that did.
      const reader = await server(other(job.host)).client("alice");
      expect((await output(reader, job.id)).equals(expected(i))).toBe(true);
    }
    expect([...hosts].sort()).toEqual([...HOSTS]);
    // Each server counts the waits of the jobs it took, and shows the queue's depth.
    const scraped = await Promise.all(HOSTS.map((host) => server(host).metrics()));
    const waits = scraped.map((text) => labelled(text, "jobworker_queue_wait_seconds_count"));
    expect(waits.reduce((sum, count) => sum + count, 0)).toBeGreaterThanOrEqual(60);
    const starts = scraped.map((text) => metricValue(text, "jobworker_job_starts_total"));
    expect(starts.reduce((sum, count) => sum + count, 0)).toBeGreaterThanOrEqual(60);
    for (const text of scraped) expect(text).toMatch(/^jobworker_queue_jobs\{queue="default",state="waiting"\} \d+$/m);
  }, 150_000);

  it("hides a user's fleet job from another user (NOT_FOUND, as for a local job) and lets an admin see it", async () => {
    const alice = await server("alpha").client("alice");
    const { job } = await alice.startJob({ command: "sh", args: ["-c", "echo hidden"], queue: "default" });
    const bob = await server("charlie").client("bob");
    expect(await codeOf(bob.getJob({ id: job!.id }))).toBe(Code.NotFound);
    expect(await codeOf(bob.stopJob({ id: job!.id }))).toBe(Code.NotFound);
    expect(await codeOf(bob.waitJob({ id: job!.id }))).toBe(Code.NotFound);
    expect(await codeOf(output(bob, job!.id))).toBe(Code.NotFound);
    const { jobs } = await bob.listJobs({ queue: "default" });
    expect(jobs.map((listed) => listed.id)).not.toContain(job!.id);
    const admin = await server("charlie").client("admin");
    expect((await admin.waitJob({ id: job!.id })).job?.owner).toBe("alice");
    const listed = (await alice.listJobs({ queue: "default" })).jobs.find((each) => each.id === job!.id);
    expect(HOSTS).toContain(listed?.host);
  });

  it("stops a running fleet job through a server that does not run it", async () => {
    const alice = await server("alpha").client("alice");
    const { job } = await alice.startJob({ command: "sh", args: ["-c", "echo up; sleep 60"], queue: "default" });
    const runningJob = await within(30_000, running(alice, job!.id), "job running");
    const stopper = await server(other(runningJob.host)).client("alice");
    const stopped = (await stopper.stopJob({ id: job!.id })).job!;
    expect(stopped.endReason).toBe(EndReason.STOPPED);
    expect(stopped.id).toBe(job!.id);
    expect((await stopper.waitJob({ id: job!.id })).job?.endReason).toBe(EndReason.STOPPED);
  });

  it("refuses a caller that names another identity unless it holds a fleet server's certificate", async () => {
    const alice = await server("alpha").client("alice");
    const { job } = await alice.startJob({ command: "sh", args: ["-c", "echo mine"], queue: "default" });
    const bob = await server("bravo").client("bob");
    for (const claimed of ["user:alice", "admin:admin"]) {
      const headers = { [ON_BEHALF_OF_HEADER]: claimed };
      expect(await codeOf(bob.getJob({ id: job!.id }, { headers }))).toBe(Code.PermissionDenied);
      expect(await codeOf(bob.listJobs({}, { headers }))).toBe(Code.PermissionDenied);
      expect(await codeOf(bob.startJob({ command: "true", queue: "default" }, { headers }))).toBe(
        Code.PermissionDenied,
      );
    }
    // The same header from a server's own certificate is how forwarding works.
    const peer = await server("bravo").client("server");
    const headers = { [ON_BEHALF_OF_HEADER]: "user:alice" };
    expect((await peer.waitJob({ id: job!.id }, { headers })).job?.owner).toBe("alice");
    // And a server's certificate that names no caller is refused: it is no identity of its own.
    expect(await codeOf(peer.getJob({ id: job!.id }))).toBe(Code.PermissionDenied);
  });

  it("reports a job lost, naming its host, when its server is killed with SIGKILL; with 2 attempts it runs again elsewhere", async () => {
    const submitter = await server("alpha").client("alice");
    const script = "echo up; sleep 3; echo done";
    const once = (await submitter.startJob({ command: "sh", args: ["-c", script], queue: "default", attempts: 1 }))
      .job!;
    const twice = (await submitter.startJob({ command: "sh", args: ["-c", script], queue: "default", attempts: 2 }))
      .job!;
    const [first, second] = await within(
      30_000,
      Promise.all([running(submitter, once.id), running(submitter, twice.id)]),
      "both jobs running",
    );
    const killed = [...new Set([first!.host, second!.host])];
    const survivor = HOSTS.find((host) => !killed.includes(host))!;
    await Promise.all(killed.map((host) => server(host).kill("SIGKILL")));
    const alice = await server(survivor).client("alice");
    try {
      const lost = (await within(60_000, alice.waitJob({ id: once.id }), "lost job")).job!;
      expect(lost.state).toBe(JobState.ENDED);
      expect(lost.endReason).toBe(EndReason.LOST);
      expect(lost.host).toBe(first!.host);
      expect(lost.endDetail).toContain(first!.host);
      const retried = (await within(60_000, alice.waitJob({ id: twice.id }), "retried job")).job!;
      expect(retried.endReason).toBe(EndReason.EXITED);
      expect(retried.exitCode).toBe(0);
      expect(retried.attempt).toBe(2);
      expect(retried.host).not.toBe(second!.host);
      expect(retried.previousAttempts).toHaveLength(1);
      expect(retried.previousAttempts[0]).toMatchObject({ attempt: 1, host: second!.host, endReason: EndReason.LOST });
      expect(retried.previousAttempts[0]?.endDetail).toContain(second!.host);
      // Each attempt keeps its own output: this one ran whole.
      expect((await output(alice, twice.id)).toString()).toBe("up\ndone\n");
    } finally {
      // Restarted on their state dirs, the killed servers re-adopt what their jobs left, and dispose cleans it.
      await Promise.all(killed.map((host) => server(host).restart()));
    }
  }, 150_000);

  it("loses no job when Redis stops while jobs run and starts again", async () => {
    const alice = await server("alpha").client("alice");
    const ids = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const args = ["-c", `echo up ${i}; sleep 3; echo end ${i}`];
        return (await alice.startJob({ command: "sh", args, queue: "default" })).job!.id;
      }),
    );
    const attempts = await within(30_000, Promise.all(ids.map((id) => running(alice, id))), "jobs running");
    await redis.stop();
    try {
      const refused = await alice.startJob({ command: "true", queue: "default" }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ConnectError);
      expect((refused as ConnectError).code).toBe(Code.Unavailable);
      expect((refused as ConnectError).rawMessage).toMatch(/retry later/);
      // The jobs go on without Redis: each one's local job ends on its host (asked there, by its local id).
      for (const attempt of attempts) {
        const host = await server(attempt.host).client("alice");
        const local = (await within(30_000, host.waitJob({ id: attempt.attemptJobId }), "local job")).job!;
        expect(local.exitCode).toBe(0);
      }
    } finally {
      await redis.start();
    }
    // Back on Redis, every result is reported, from the attempt that ran: nothing lost, nothing run twice.
    const bravo = await server("bravo").client("alice");
    for (const [i, id] of ids.entries()) {
      const job = (await within(60_000, bravo.waitJob({ id }), "fleet job after the outage")).job!;
      expect(job.endReason).toBe(EndReason.EXITED);
      expect(job.exitCode).toBe(0);
      expect(job.attempt).toBe(1);
      expect(job.host).toBe(attempts[i]!.host);
      expect(job.previousAttempts).toEqual([]);
      expect((await output(bravo, id)).toString()).toBe(`up ${i}\nend ${i}\n`);
    }
  }, 150_000);

  it("has no queued jobs of its own: ListJobs for QUEUED without a queue is empty, WatchJobs for it INVALID_ARGUMENT", async () => {
    const alice = await server("alpha").client("alice");
    const local = (await alice.startJob({ command: "true" })).job!;
    await alice.waitJob({ id: local.id });
    expect((await alice.listJobs({})).jobs.map((job) => job.id)).toContain(local.id);
    expect((await alice.listJobs({ state: JobState.QUEUED })).jobs).toEqual([]);
    const watch = async () => {
      for await (const _ of alice.watchJobs({ state: JobState.QUEUED })) return;
    };
    expect(await codeOf(watch())).toBe(Code.InvalidArgument);
  });

  it("refuses a fleet submission FAILED_PRECONDITION on a queue the server does not serve", async () => {
    const alice = await server("alpha").client("alice");
    const error = await alice.startJob({ command: "true", queue: "elsewhere" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.FailedPrecondition);
  });
});

describe("a fleet server whose Redis is away when it starts", () => {
  it("serves its own jobs, refuses fleet calls UNAVAILABLE, and takes fleet jobs once Redis is up", async () => {
    const away = await RedisServer.start();
    await away.stop();
    let lone: ServerProcess | undefined;
    try {
      lone = await ServerProcess.start({
        writePki: (dir) => cp(pkiDir, dir, { recursive: true }),
        args: ["--queue-url", away.url, "--host-name", "lone"],
      });
      const alice = await lone.client("alice");
      const local = (await alice.startJob({ command: "true" })).job!;
      expect((await alice.waitJob({ id: local.id })).job?.exitCode).toBe(0);
      expect(await codeOf(alice.startJob({ command: "true", queue: "default" }))).toBe(Code.Unavailable);
      await away.start();
      const { job } = await within(
        30_000,
        alice.startJob({ command: "sh", args: ["-c", "echo joined"], queue: "default" }),
        "submission once Redis is up",
      );
      const ended = (await within(30_000, alice.waitJob({ id: job!.id }), "fleet job")).job!;
      expect(ended.host).toBe("lone");
      expect((await output(alice, job!.id)).toString()).toBe("joined\n");
    } finally {
      await lone?.dispose();
      await away.dispose();
    }
  }, 90_000);
});

describe("a fleet server's follower quota", () => {
  it("counts followers of fleet jobs with the caller's other streams: one more is RESOURCE_EXHAUSTED", async () => {
    const redis = await RedisServer.start();
    let lone: ServerProcess | undefined;
    try {
      lone = await ServerProcess.start({
        writePki: (dir) => cp(pkiDir, dir, { recursive: true }),
        args: ["--queue-url", redis.url, "--host-name", "lone", "--max-followers-per-owner", "1"],
      });
      const alice = await lone.client("alice");
      const id = (await alice.startJob({ command: "sh", args: ["-c", "echo up; exec sleep 1000"], queue: "default" }))
        .job!.id;
      const abort = new AbortController();
      const follower = alice.streamOutput({ id, follow: true }, { signal: abort.signal })[Symbol.asyncIterator]();
      await within(30_000, follower.next(), "the first follower's first output");
      expect(await codeOf(output(alice, id))).toBe(Code.ResourceExhausted);
      abort.abort();
      await follower.return?.();
      await alice.stopJob({ id });
    } finally {
      await lone?.dispose();
      await redis.dispose();
    }
  }, 90_000);
});

describe("a fleet server at its owner's quota", () => {
  it("takes a queued job only when the owner has room under its quota, and runs the rest in turn, higher priority first", async () => {
    const redis = await RedisServer.start();
    let lone: ServerProcess | undefined;
    try {
      lone = await ServerProcess.start({
        writePki: (dir) => cp(pkiDir, dir, { recursive: true }),
        args: ["--queue-url", redis.url, "--host-name", "lone", "--max-running-jobs-per-owner", "1"],
      });
      const alice = await lone.client("alice");
      const ids = await Promise.all(
        [0, 1, 2].map(async (i) => {
          const args = ["-c", `echo ${i}; sleep 0.5`];
          return (await alice.startJob({ command: "sh", args, queue: "default" })).job!.id;
        }),
      );
      const ended = await within(
        60_000,
        Promise.all(ids.map(async (id) => (await alice.waitJob({ id })).job!)),
        "jobs run in turn",
      );
      const spans = ended
        .map((job) => [timestampMs(job.startTime!), timestampMs(job.endTime!)] as const)
        .sort((a, b) => a[0] - b[0]);
      for (const job of ended) expect(job.exitCode).toBe(0);
      // One at a time: each started after the one before it ended.
      for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
      // While one runs, a job of higher priority submitted later is taken before a lower one queued earlier.
      const blocker = (await alice.startJob({ command: "sh", args: ["-c", "echo block; sleep 1"], queue: "default" }))
        .job!;
      await within(30_000, running(alice, blocker.id), "blocker running");
      const low = (await alice.startJob({ command: "true", queue: "default", priority: 0 })).job!;
      const high = (await alice.startJob({ command: "true", queue: "default", priority: 10 })).job!;
      const [lowEnded, highEnded] = await within(
        60_000,
        Promise.all([low, high].map(async (job) => (await alice.waitJob({ id: job.id })).job!)),
        "prioritized jobs",
      );
      expect(timestampMs(highEnded!.startTime!)).toBeLessThanOrEqual(timestampMs(lowEnded!.startTime!));
    } finally {
      await lone?.dispose();
      await redis.dispose();
    }
  }, 90_000);
});
