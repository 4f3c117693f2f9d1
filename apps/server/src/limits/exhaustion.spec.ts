import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { EndReason, JobState } from "@jobworker/proto";
import { idleConnections, metricValue, ServerProcess, stalledFollowers, within } from "@jobworker/testkit";
import { cgroupDirs, fileAppears } from "@jobworker/testkit/host";
import { afterEach, describe, expect, it } from "vitest";

const needsRoot = process.getuid?.() !== 0;

/**
 * Lowers a running server's descriptor limit. Set once a job has run, it binds the server
 * only: its launcher service is already running, and jobs keep their own limits.
 */
function limitDescriptors(server: ServerProcess, limit: number): void {
  execFileSync("prlimit", ["--pid", String(server.child.pid), `--nofile=${limit}:${limit}`]);
}

describe.skipIf(needsRoot)("a server under connection floods (needs root: real server processes and jobs)", () => {
  let server: ServerProcess | undefined;
  let cleanup: (() => void) | undefined;

  afterEach(async () => {
    cleanup?.();
    cleanup = undefined;
    await server?.dispose();
    server = undefined;
  });

  it("2,000 idle connections that never complete a handshake: real clients are served, fds stay under the cap, jobs end normally", async () => {
    // A handshake timeout longer than the test: the cap alone must keep the server serving.
    server = await ServerProcess.start({ args: ["--max-connections", "512", "--handshake-timeout-seconds", "600"] });
    const alice = await server.client();
    await alice.waitJob({ id: (await alice.startJob({ command: "true" })).job?.id ?? "" });
    limitDescriptors(server, 1024);
    const idle = await within(30_000, idleConnections(server.port, 2000), "2,000 connections");
    cleanup = idle.destroy;
    // Every connection past the cap closes one still in its handshake: 2,000 - 512 of them, less
    // those the kernel's accept queue dropped. Without the cap, running out of descriptors
    // closes fewer (2,000 - 1,024 + the server's own).
    await within(30_000, idle.closedByServer(2000 - 512 - 200), "the server closing connections past its cap");
    const { job } = await within(10_000, alice.startJob({ command: "sh", args: ["-c", "exit 3"] }), "a start");
    expect((await within(10_000, alice.waitJob({ id: job?.id ?? "" }), "a wait")).job?.exitCode).toBe(3);
    const metrics = await server.metrics();
    expect(metricValue(metrics, "process_open_fds")).toBeLessThan(512 + 100);
    expect(server.child.exitCode).toBeNull();
  });

  it("a job that ends while the server is out of file descriptors is recorded once they are back, and the server keeps running", async () => {
    // The job waits for a file in a host directory exposed to it: the test says when it ends.
    const gate = await mkdtemp("/var/tmp/jobworker-test-gate-");
    await chmod(gate, 0o755);
    // No connection cap to speak of: this exhausts the descriptors on purpose.
    server = await ServerProcess.start({
      args: ["--max-connections", "100000", "--handshake-timeout-seconds", "600", "--expose", gate],
    });
    try {
      const alice = await server.client();
      const script = `while [ ! -e ${gate}/go ]; do sleep 0.05; done; exit 7`;
      const id = (await alice.startJob({ command: "sh", args: ["-c", script] })).job?.id ?? "";
      limitDescriptors(server, 256);
      // Descriptors are out once the server starts closing connections it cannot accept.
      const idle = await within(30_000, idleConnections(server.port, 400), "400 connections");
      cleanup = idle.destroy;
      await within(30_000, idle.closedByServer(1), "the server running out of descriptors");
      // The wait goes over the connection already open: the server needs no descriptor to answer it.
      const crashed = once(server.child, "exit").then(() => "crashed");
      const waited = alice.waitJob({ id }).then(({ job }) => job);
      await writeFile(join(gate, "go"), "");
      // The job has ended once its launcher has written the exit record, which the server cannot open yet.
      await within(30_000, fileAppears(join(server.stateDir, "jobs", id), "exit.json"), "the exit record");
      expect(server.child.exitCode).toBeNull();
      idle.destroy();
      const ended = await within(30_000, Promise.race([crashed, waited]), "the job's end");
      expect(ended).not.toBe("crashed");
      // Read again once descriptors are free: the job's real exit, not "lost".
      expect(ended).toMatchObject({ state: JobState.ENDED, endReason: EndReason.EXITED, exitCode: 7 });
      expect(server.child.exitCode).toBeNull();
      expect(await server.kill("SIGTERM")).toBe(0);
      await server.restart();
      expect(await cgroupDirs(server.cgroupParent)).toEqual([]);
    } finally {
      await rm(gate, { recursive: true, force: true });
    }
  });

  it("1,500 follow streams that never read cost the server bounded memory and do not hold up its shutdown", async () => {
    server = await ServerProcess.start({ args: ["--max-followers-per-owner", "1500"] });
    const alice = await server.client();
    const script = "head -c 8388608 /dev/urandom; echo; exec sleep 1000";
    const id = (await alice.startJob({ command: "sh", args: ["-c", script] })).job?.id ?? "";
    for await (const chunk of alice.streamOutput({ id, follow: true })) if (chunk.data.at(-1) === 10) break;
    const before = metricValue(await server.metrics(), "process_resident_memory_bytes");
    const stalled = await within(60_000, stalledFollowers(server, id, 1500), "1,500 streams answered");
    cleanup = stalled.close;
    const metrics = await server.metrics();
    const grownMiB = (metricValue(metrics, "process_resident_memory_bytes") - before) / 2 ** 20;
    expect(metricValue(metrics, "jobworker_open_streams")).toBe(1500);
    process.stdout.write(`1,500 stalled followers: server RSS grew ${grownMiB.toFixed(0)} MiB\n`);
    // 759 MiB before stalled readers were bounded; about 190 MiB since, most of it the
    // per-call cost of Connect and HTTP/2 rather than buffered output.
    expect(grownMiB).toBeLessThan(256);
    // Nor do they hold up a shutdown: their calls end, whether or not their clients read.
    await alice.stopJob({ id, gracePeriod: { seconds: 0n, nanos: 0 } });
    const exited = await within(30_000, server.kill("SIGTERM"), "a shutdown with 1,500 stalled streams");
    expect(exited).toBe(0);
  });
});
