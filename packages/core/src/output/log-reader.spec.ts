import { createHash, randomBytes } from "node:crypto";
import { chmod, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobManager } from "../job-manager.js";
import { needsRoot, openResources, type TempManager, tempManager, testTempDir } from "../testing/temp-manager.js";
import { waitForOutput } from "../testing/wait-for-output.js";
import { CHUNK_BYTES, type OutputChunk } from "./log-reader.js";

const scope = { owner: "alice" };
const SIZE = 100 * 2 ** 20;

describe.skipIf(needsRoot)("output streaming (needs root: jobs run isolated)", () => {
  let temp: TempManager;
  let manager: JobManager;
  let dataDir: string;
  let data: Buffer;

  beforeAll(async () => {
    dataDir = await testTempDir("jobworker-data-");
    data = randomBytes(SIZE);
    await writeFile(join(dataDir, "random.bin"), data, { mode: 0o644 });
    await chmod(dataDir, 0o755); // readable by the jobs' transient uids
    temp = await tempManager({ exposedPaths: [{ path: dataDir, writable: false }] });
    manager = temp.manager;
  });

  afterAll(async () => {
    await temp.dispose();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("20 concurrent readers, some late and some from the middle, read 100 MiB of random bytes exactly", async () => {
    // Written in two halves, so late readers may join while it still runs.
    const file = join(dataDir, "random.bin");
    const job = await manager.start("alice", {
      command: "/bin/sh",
      args: ["-c", `head -c ${SIZE / 2} ${file}; tail -c ${SIZE / 2} ${file}`],
    });
    const middle = Math.floor(SIZE / 3);
    const readers: Promise<Buffer>[] = [];
    for (let i = 0; i < 10; i++) readers.push(read(manager, job.id, 0));
    // Late readers: start once some output has arrived.
    await waitForOutput(manager, job.id);
    for (let i = 0; i < 5; i++) readers.push(read(manager, job.id, 0));
    for (let i = 0; i < 5; i++) readers.push(read(manager, job.id, middle));
    const results = await Promise.all(readers);
    const whole = sha256(data);
    const tail = sha256(data.subarray(middle));
    expect(results.map(sha256)).toEqual([...Array(15).fill(whole), ...Array(5).fill(tail)]);
    expect((await manager.wait(job.id, scope)).outputBytes).toBe(SIZE);
  });

  it("chunks are bounded and carry their offsets, from any starting offset", async () => {
    const job = await manager.start("alice", { command: "/bin/cat", args: [join(dataDir, "random.bin")] });
    await manager.wait(job.id, scope);
    let expected = 12345;
    let misplaced = 0;
    let oversized = 0;
    for await (const chunk of manager.openOutput(job.id, scope, { fromOffset: 12345 })) {
      if (chunk.offset !== expected) misplaced++;
      if (chunk.data.length > CHUNK_BYTES) oversized++;
      expected += chunk.data.length;
    }
    expect({ misplaced, oversized, end: expected }).toEqual({ misplaced: 0, oversized: 0, end: SIZE });
    const beyond: OutputChunk[] = [];
    for await (const chunk of manager.openOutput(job.id, scope, { fromOffset: SIZE + 10 })) beyond.push(chunk);
    expect(beyond).toEqual([]);
  });

  it("a lone reader catches up in the largest chunks; one of ten readers in chunks a quarter that size", async () => {
    const job = await manager.start("alice", { command: "/bin/cat", args: [join(dataDir, "random.bin")] });
    await manager.wait(job.id, scope);
    const largest = async () => {
      let max = 0;
      for await (const chunk of manager.openOutput(job.id, scope)) max = Math.max(max, chunk.data.length);
      return max;
    };
    expect(await largest()).toBe(CHUNK_BYTES);
    // Nine readers that took a chunk each and hold their place: each reads at most a quarter.
    const held = Array.from({ length: 9 }, () => manager.openOutput(job.id, scope)[Symbol.asyncIterator]());
    for (const reader of held) await reader.next();
    expect(await largest()).toBe(CHUNK_BYTES / 4);
    for (const reader of held) await reader.return?.();
    // Their shares are back.
    expect(await largest()).toBe(CHUNK_BYTES);
  });

  it("a reader aborted mid-stream releases its file and wakes no more", async () => {
    const before = await openResources();
    const job = await manager.start("alice", { command: "/bin/sh", args: ["-c", "echo first; sleep 1000"] });
    const controller = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const chunk of manager.openOutput(job.id, scope, { follow: true, signal: controller.signal })) {
        seen.push(Buffer.from(chunk.data).toString());
        controller.abort();
      }
    })();
    await reading;
    expect(seen).toEqual(["first\n"]);
    await manager.stop(job.id, scope, { graceMs: 0 });
    expect(await openResources()).toEqual(before);
  });

  it("a follower of a job writing a byte per call gets every byte, in pieces, not a read per byte", async () => {
    const job = await manager.start("alice", {
      command: "/bin/sh",
      args: ["-c", "dd if=/dev/zero bs=1 count=1000000 status=none"],
    });
    let chunks = 0;
    let bytes = 0;
    for await (const chunk of manager.openOutput(job.id, scope, { follow: true })) {
      chunks++;
      bytes += chunk.data.length;
    }
    expect(bytes).toBe(1_000_000);
    // Reads follow the job's watch, which wakes at most every few milliseconds while it writes.
    expect(chunks).toBeLessThan(20_000);
  });

  it("a follower that stops early at the live end releases its file at once", async () => {
    const job = await manager.start("alice", { command: "/bin/sh", args: ["-c", "echo first; sleep 1000"] });
    const before = await openResources();
    for await (const _chunk of manager.openOutput(job.id, scope, { follow: true })) break;
    // File descriptors only: the job's watch itself rests and wakes as the job writes.
    expect((await openResources()).fds).toBe(before.fds);
    await manager.stop(job.id, scope, { graceMs: 0 });
  });

  it("without follow, a reader stops at the current end of a running job's output", async () => {
    const job = await manager.start("alice", { command: "/bin/sh", args: ["-c", "echo now; sleep 1000"] });
    await waitForOutput(manager, job.id, "now\n");
    const chunks: OutputChunk[] = [];
    for await (const chunk of manager.openOutput(job.id, scope)) chunks.push(chunk);
    expect(Buffer.concat(chunks.map((c) => c.data)).toString()).toBe("now\n");
    await manager.stop(job.id, scope, { graceMs: 0 });
  });
});

async function read(manager: JobManager, id: string, fromOffset: number): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of manager.openOutput(id, scope, { fromOffset, follow: true })) parts.push(chunk.data);
  return Buffer.concat(parts);
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
