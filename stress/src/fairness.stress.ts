import { execFileSync } from "node:child_process";
import { mkdir, readFile, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { EndReason, JobState } from "@jobworker/proto";
import { codeOf, type JobClient, metricValue, ServerProcess } from "@jobworker/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { report } from "./report.js";
import { FULL, SCALE } from "./scale.js";

const needsRoot = process.getuid?.() !== 0;
const TRAP_TERM = ["-c", "trap '' TERM; echo ready; while :; do sleep 1; done"];

/** Resolves once the job has printed its first bytes. */
async function started(client: JobClient, id: string): Promise<void> {
  for await (const _chunk of client.streamOutput({ id, follow: true })) return;
}

describe.skipIf(needsRoot)("one user against everyone else (needs root: real jobs)", () => {
  let server: ServerProcess;
  let alice: JobClient;
  let bob: JobClient;
  let admin: JobClient;

  beforeAll(async () => {
    server = await ServerProcess.start({
      args: ["--max-running-jobs-per-owner", "5", "--max-grace", "10m", "--grace-period-ms", "1000"],
    });
    [alice, bob, admin] = await Promise.all([server.client("alice"), server.client("bob"), server.client("admin")]);
  });
  afterAll(() => server.dispose());

  it("a user at its quota is refused with the quota named, and everyone else keeps starting", async () => {
    const mine: string[] = [];
    let refusal = "";
    for (let i = 0; i < 10 && !refusal; i++) {
      try {
        mine.push((await alice.startJob({ command: "/bin/sh", args: TRAP_TERM })).job?.id ?? "");
      } catch (error) {
        const { code, rawMessage } = ConnectError.from(error);
        expect(code).toBe(Code.ResourceExhausted);
        refusal = rawMessage;
      }
    }
    expect(mine).toHaveLength(5);
    expect(refusal).toMatch(/max active jobs 5/);
    const others = SCALE.jobs / 10;
    for (let i = 0; i < others; i++) {
      const id = (await bob.startJob({ command: "/bin/true" })).job?.id ?? "";
      expect((await bob.waitJob({ id })).job?.exitCode).toBe(0);
    }
    await alice.cleanJobs({});
    report(
      "one user holds its whole quota of running jobs (5) and asks for more",
      "its next start is RESOURCE_EXHAUSTED naming the quota; another user's starts all succeed meanwhile",
      `alice: 5 started, then "${refusal}"; bob: ${others} of ${others} jobs ran`,
    );
  });

  it("a stop pinned with the longest grace gives way to an admin's stop and to the runtime limit", async () => {
    const pinned = (await alice.startJob({ command: "/bin/sh", args: TRAP_TERM })).job?.id ?? "";
    await started(alice, pinned);
    const long = alice.stopJob({ id: pinned, gracePeriod: { seconds: 600n, nanos: 0 } });
    expect(await codeOf(alice.stopJob({ id: pinned, gracePeriod: { seconds: 3600n, nanos: 0 } }))).toBe(
      Code.InvalidArgument,
    );
    const byAdmin = (await admin.stopJob({ id: pinned, gracePeriod: { seconds: 0n, nanos: 0 } })).job;
    expect(byAdmin).toMatchObject({ state: JobState.ENDED, signal: 9 });
    expect((await long).job?.state).toBe(JobState.ENDED);

    const timed =
      (await alice.startJob({ command: "/bin/sh", args: TRAP_TERM, maxRuntime: { seconds: 1n, nanos: 0 } })).job?.id ??
      "";
    await started(alice, timed);
    const byLimit = (await alice.stopJob({ id: timed, gracePeriod: { seconds: 600n, nanos: 0 } })).job;
    expect(byLimit).toMatchObject({ state: JobState.ENDED, signal: 9 });
    report(
      "a user stops its own TERM-ignoring job with a 10-minute grace",
      "a grace past --max-grace is INVALID_ARGUMENT; an admin's stop with no grace ends it at once; so does the runtime limit (then the server's grace)",
      `admin's stop: ${EndReason[byAdmin?.endReason ?? 0]} signal ${byAdmin?.signal}; runtime limit: ${EndReason[byLimit?.endReason ?? 0]} signal ${byLimit?.signal}, ended ${Number((byLimit?.endTime?.seconds ?? 0n) - (byLimit?.startTime?.seconds ?? 0n))} s after its start`,
    );
  });

  it("a job writing a byte per call, followed, costs the server a fraction of the job's own CPU", async () => {
    const pid = server.child.pid ?? 0;
    const before = await cpuTicks(pid);
    const id =
      (await alice.startJob({ command: "/bin/sh", args: ["-c", "dd if=/dev/zero bs=1 count=2000000 status=none"] })).job
        ?.id ?? "";
    let bytes = 0;
    for await (const chunk of alice.streamOutput({ id, follow: true })) bytes += chunk.data.length;
    const job = (await alice.waitJob({ id })).job;
    const serverMs = ((await cpuTicks(pid)) - before) * (1000 / 100); // USER_HZ is 100 on Linux
    const jobMs = Number(job?.usage?.cpuTime?.seconds ?? 0n) * 1000 + (job?.usage?.cpuTime?.nanos ?? 0) / 1e6;
    expect(bytes).toBe(2_000_000);
    expect(serverMs).toBeLessThan(jobMs / 2);
    report(
      "a job writes 2 MB one byte per write(2), with a client following it",
      "the follower gets every byte; the server's CPU stays a fraction of the job's (its watch rests 5 ms after each event)",
      `server ${serverMs.toFixed(0)} ms CPU, job ${jobMs.toFixed(0)} ms CPU (${((100 * serverMs) / jobMs).toFixed(0)} %); ${bytes} bytes followed`,
    );
  });

  it("many kept jobs with long argument lists: every page of the list arrives, and their arguments stay on disk", async () => {
    const jobs = FULL ? 600 : 40;
    // Eight 110 KiB arguments: close to the 1 MiB a request may carry (the kernel takes 128 KiB per argument).
    const long = "z".repeat(110 * 1024);
    const rssBefore = metricValue(await server.metrics(), "process_resident_memory_bytes");
    for (let i = 0; i < jobs; i++) {
      const id =
        (await bob.startJob({ command: "/bin/true", args: Array.from({ length: 8 }, () => long) })).job?.id ?? "";
      await bob.waitJob({ id });
    }
    const rssAfter = metricValue(await server.metrics(), "process_resident_memory_bytes");
    let listed = 0;
    let pages = 0;
    let pageToken = "";
    do {
      const page = await admin.listJobs({ owner: "bob", pageSize: 1000, pageToken });
      listed += page.jobs.filter((job) => job.args.length === 8).length;
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken);
    expect(listed).toBe(jobs);
    expect(pages).toBeGreaterThan(1);
    await bob.cleanJobs({});
    const heldMiB = (jobs * 8 * long.length) / 2 ** 20;
    report(
      `${jobs} kept jobs of bob's, each with 880 KiB of arguments (${heldMiB.toFixed(0)} MiB in all)`,
      "an admin lists them all, page by page (a page stops before 2 MiB); the arguments live in each job's args.json, not in the server's memory",
      `${listed} jobs in ${pages} pages; server RSS ${(rssBefore / 2 ** 20).toFixed(0)} → ${(rssAfter / 2 ** 20).toFixed(0)} MiB`,
    );
  });

  it("stops still end jobs while the state dir is full", async () => {
    const root = "/var/tmp/jobworker-stress-fair";
    await mkdir(root, { recursive: true, mode: 0o700 });
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=16m,mode=0700", "jobworker-stress", root]);
    const small = await ServerProcess.start({ args: ["--state-dir", join(root, "state")] });
    try {
      const client = await small.client();
      const running = (await client.startJob({ command: "/bin/sh", args: TRAP_TERM })).job?.id ?? "";
      await started(client, running);
      const filler = (await client.startJob({ command: "/bin/sh", args: ["-c", "head -c 67108864 /dev/zero"] })).job;
      await client.waitJob({ id: filler?.id ?? "" });
      expect(await codeOf(client.startJob({ command: "/bin/true" }))).toBe(Code.ResourceExhausted);
      const stopped = (await client.stopJob({ id: running, gracePeriod: { seconds: 0n, nanos: 0 } })).job;
      expect(stopped).toMatchObject({ state: JobState.ENDED, endReason: EndReason.STOPPED });
      report(
        "a stop while the state dir (a 16 MiB tmpfs) is full",
        "the stop ends the job at once, even though its record cannot be saved",
        `stopped: ${EndReason[stopped?.endReason ?? 0]} signal ${stopped?.signal}`,
      );
    } finally {
      await small.dispose();
      execFileSync("umount", [root]);
      await rmdir(root);
    }
  });
});

/** User plus system CPU of a process so far, in clock ticks (fields 14 and 15 of /proc/<pid>/stat). */
async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}
