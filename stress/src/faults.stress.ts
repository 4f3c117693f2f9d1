import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readFile, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { sendControl } from "@jobworker/helper";
import { EndReason, JobState } from "@jobworker/proto";
import { type JobClient, metricValue, ServerProcess } from "@jobworker/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cgroupDirs, fileAppears, jobRecord, mountsMentioning, processesOfUid } from "./host.js";
import { report } from "./report.js";
import { SCALE } from "./scale.js";

const needsRoot = process.getuid?.() !== 0;

/** The first chunk of a following stream; the stream stays open until `signal` aborts. */
async function firstBytes(client: JobClient, id: string, signal: AbortSignal, fromOffset = 0n): Promise<Buffer> {
  for await (const chunk of client.streamOutput({ id, follow: true, fromOffset }, { signal }))
    return Buffer.from(chunk.data);
  return Buffer.alloc(0);
}

async function readAll(client: JobClient, id: string, fromOffset = 0n): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of client.streamOutput({ id, follow: true, fromOffset })) parts.push(chunk.data);
  return Buffer.concat(parts);
}

describe.skipIf(needsRoot)("faults (needs root: real jobs, kill -9, tmpfs mounts)", () => {
  let server: ServerProcess;
  let alice: JobClient;

  beforeAll(async () => {
    server = await ServerProcess.start();
    alice = await server.client();
  });

  afterAll(() => server.dispose());

  it("kill -9 of the server while jobs run and clients stream: the next server re-adopts them", async () => {
    const trapping = (code: number) => ["-c", `trap 'exit ${code}' TERM; echo ready; sleep 1000 & wait`];
    const survivor = (await alice.startJob({ command: "/bin/sh", args: trapping(42) })).job!;
    const endsWhileDown = (await alice.startJob({ command: "/bin/sh", args: trapping(7) })).job!;
    const finished = (await alice.startJob({ command: "/bin/sh", args: ["-c", "echo done; exit 5"] })).job!;
    await alice.waitJob({ id: finished.id });
    const streaming = new AbortController();
    const seen = await firstBytes(alice, survivor.id, streaming.signal);
    expect(seen.toString()).toBe("ready\n");
    await firstBytes(alice, endsWhileDown.id, new AbortController().signal);
    const fdsBefore = metricValue(await server.metrics(), "process_open_fds");

    expect(await server.kill("SIGKILL")).toBeNull();
    streaming.abort();
    // While no server runs, one job ends: its launcher still records how.
    const jobDir = join(server.stateDir, "jobs", endsWhileDown.id);
    const recorded = fileAppears(jobDir, "exit.json");
    expect(await sendControl(jobDir, "term")).toBe(true);
    await recorded;

    await server.restart();
    alice = await server.client();
    const adopted = (await alice.getJob({ id: survivor.id })).job!;
    expect(adopted.state).toBe(JobState.RUNNING);
    expect((await alice.waitJob({ id: endsWhileDown.id })).job).toMatchObject({
      endReason: EndReason.EXITED,
      exitCode: 7,
    });
    expect((await alice.getJob({ id: finished.id })).job).toMatchObject({ state: JobState.ENDED, exitCode: 5 });
    expect((await readAll(alice, finished.id)).toString()).toBe("done\n");
    // A follower resumes from the offset it had reached: no gap, no duplicate.
    const resumed = readAll(alice, survivor.id, BigInt(seen.length));
    const stopped = (await alice.stopJob({ id: survivor.id })).job!;
    expect(stopped).toMatchObject({ endReason: EndReason.STOPPED, exitCode: 42 });
    expect((await resumed).length).toBe(0);

    const { uid } = await jobRecord(server.stateDir, survivor.id);
    expect(await processesOfUid(uid)).toEqual([]);
    expect(await cgroupDirs(server.cgroupParent)).toEqual([]);
    expect(await mountsMentioning(server.stateDir)).toEqual([]);
    const fdsAfter = metricValue(await server.metrics(), "process_open_fds");
    expect(fdsAfter).toBeLessThanOrEqual(fdsBefore + 2);
    report(
      "kill -9 of the server with 3 jobs and 2 open streams, restart on the same state dir",
      "running job re-adopted (status, resume-follow, stop → exit 42); job ended while down → exit 7 from the launcher's record; ended job keeps status and output",
      `all as expected; after: 0 processes, 0 cgroups, 0 mounts left; server fds ${fdsBefore} before, ${fdsAfter} after`,
    );
  });

  it("kill -9 of a job's outer launcher ends the job as lost; of its init, as signaled (SIGKILL)", async () => {
    const started = async () => {
      const job = (
        await alice.startJob({ command: "/bin/sh", args: ["-c", "sleep 1000 & sleep 1000 & echo ready; wait"] })
      ).job!;
      await firstBytes(alice, job.id, new AbortController().signal);
      return { job, record: await jobRecord(server.stateDir, job.id) };
    };
    const outer = await started();
    process.kill(outer.record.launcher!.pid, "SIGKILL");
    const lost = (await alice.waitJob({ id: outer.job.id })).job!;
    expect(lost.endReason).toBe(EndReason.LOST);
    expect(await processesOfUid(outer.record.uid)).toEqual([]);

    const inner = await started();
    const children = await readFile(
      `/proc/${inner.record.launcher!.pid}/task/${inner.record.launcher!.pid}/children`,
      "utf8",
    );
    const initPid = Number(children.trim().split(" ")[0]);
    process.kill(initPid, "SIGKILL");
    const signaled = (await alice.waitJob({ id: inner.job.id })).job!;
    expect(signaled).toMatchObject({ endReason: EndReason.SIGNALED, signal: 9 });
    expect(await processesOfUid(inner.record.uid)).toEqual([]);
    expect(await cgroupDirs(server.cgroupParent)).toEqual([]);
    report(
      "kill -9 of a job's outer launcher / of its init",
      "the job's whole tree is gone; it ends as lost (no exit record) / signaled 9 (the launcher records the init's death)",
      `launcher: ${EndReason[lost.endReason]}, init: ${EndReason[signaled.endReason]} signal ${signaled.signal}; 0 processes and 0 cgroups left`,
    );
  });

  it("clients that disconnect at every point of a stream, or stop reading, leave others unaffected and memory bounded", async () => {
    const big = (await alice.startJob({ command: "/bin/sh", args: ["-c", "head -c 67108864 /dev/urandom"] })).job!;
    await alice.waitJob({ id: big.id });
    const expected = await readAll(alice, big.id);
    const rssBefore = metricValue(await server.metrics(), "process_resident_memory_bytes");
    // Stalled readers: each opens a stream and never reads it.
    const stalled = await Promise.all(Array.from({ length: 20 }, () => stalledStream(server, big.id)));
    // Disconnects after 0, 1, 2, ... chunks, while another client reads everything.
    const full = readAll(alice, big.id);
    for (let chunks = 0; chunks < SCALE.disconnects; chunks++) {
      const controller = new AbortController();
      let n = 0;
      try {
        for await (const _chunk of alice.streamOutput({ id: big.id }, { signal: controller.signal })) {
          if (++n > chunks) controller.abort();
        }
      } catch (error) {
        expect(ConnectError.from(error).code).toBe(Code.Canceled);
      }
    }
    expect(sha(await full)).toBe(sha(expected));
    const rssDuring = metricValue(await server.metrics(), "process_resident_memory_bytes");
    for (const stream of stalled) stream.close();
    expect(rssDuring - rssBefore).toBeLessThan(64 * 2 ** 20);
    report(
      "clients disconnecting after 0…N chunks, 20 clients that stop reading, one full reader",
      "full reader's 64 MiB byte-exact; server RSS bounded",
      `${SCALE.disconnects} disconnect points, 20 stalled readers; full reader hash matches; server RSS grew ${((rssDuring - rssBefore) / 2 ** 20).toFixed(1)} MiB`,
    );
  });

  it("a full state directory: the job's writes fail, the server keeps serving with a clear error, other jobs intact", async () => {
    const root = "/var/tmp/jobworker-stress-full";
    await mkdir(root, { recursive: true, mode: 0o700 });
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=16m,mode=0700", "jobworker-stress", root]);
    const small = await ServerProcess.start({ args: ["--state-dir", join(root, "state")] });
    try {
      const client = await small.client();
      const intact = (await client.startJob({ command: "/bin/sh", args: ["-c", "echo intact"] })).job!;
      await client.waitJob({ id: intact.id });
      const filler = (await client.startJob({ command: "/bin/sh", args: ["-c", "head -c 67108864 /dev/zero"] })).job!;
      const ended = (await client.waitJob({ id: filler.id })).job!;
      expect(ended.exitCode).not.toBe(0);
      const refused = await client
        .startJob({ command: "/bin/true" })
        .catch((error: unknown) => ConnectError.from(error));
      expect(refused).toBeInstanceOf(ConnectError);
      expect((refused as ConnectError).code).toBe(Code.ResourceExhausted);
      const refusal = `${Code[(refused as ConnectError).code]}: ${(refused as ConnectError).rawMessage}`;
      expect((await client.getJob({ id: intact.id })).job?.exitCode).toBe(0);
      expect((await readAll(client, intact.id)).toString()).toBe("intact\n");
      await client.deleteJob({ id: filler.id });
      const after = (await client.startJob({ command: "/bin/echo", args: ["room again"] })).job!;
      expect((await client.waitJob({ id: after.id })).job?.exitCode).toBe(0);
      await small.kill("SIGTERM");
      await small.restart();
      const reloaded = await small.client();
      expect((await reloaded.getJob({ id: intact.id })).job).toMatchObject({ state: JobState.ENDED, exitCode: 0 });
      report(
        "state dir on a 16 MiB tmpfs; a job writes 64 MiB",
        "the job's writes fail (ENOSPC), other jobs' records and output intact, clear error while full, normal after a delete, records load after restart",
        `filler ${EndReason[ended.endReason]} exit ${ended.exitCode}; start while full: ${refusal}; after delete: started; restart: records intact`,
      );
    } finally {
      await small.dispose();
      execFileSync("umount", [root]);
      await rmdir(root);
    }
  });
});

function sha(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** An HTTP/2 StreamOutput call whose response is never read: the server must block on flow control, not buffer. */
async function stalledStream(server: ServerProcess, id: string): Promise<{ close(): void }> {
  const http2 = await import("node:http2");
  const [ca, cert, key] = await Promise.all(
    ["ca.crt", "alice.crt", "alice.key"].map((f) => readFile(join(server.certs, f))),
  );
  const session = http2.connect(`https://localhost:${server.port}`, { ca, cert, key });
  const { create, toBinary } = await import("@bufbuild/protobuf");
  const { StreamOutputRequestSchema } = await import("@jobworker/proto");
  const body = toBinary(StreamOutputRequestSchema, create(StreamOutputRequestSchema, { id }));
  const envelope = Buffer.alloc(5 + body.length);
  envelope.writeUInt32BE(body.length, 1);
  envelope.set(body, 5);
  const stream = session.request({
    ":method": "POST",
    ":path": "/jobworker.v1.JobService/StreamOutput",
    "content-type": "application/grpc",
    te: "trailers",
  });
  stream.end(envelope);
  stream.pause();
  await new Promise((resolve) => stream.once("response", resolve));
  return { close: () => session.destroy() };
}
