import { once } from "node:events";
import { JobState } from "@jobworker/proto";
import { ServerProcess } from "@jobworker/testkit";
import { writeInJob } from "@jobworker/testkit/host";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runjob, spawnRunjob } from "./testing/cli-harness.js";

const needsRoot = process.getuid?.() !== 0;

/** Lines 0000..0199; the job prints the second half only once `go` exists in its work dir. */
const EXPECTED = Array.from({ length: 200 }, (_, i) => `line ${String(i).padStart(4, "0")}\n`).join("");
const SCRIPT = [
  "i=0; while [ $i -lt 100 ]; do printf 'line %04d\\n' $i; i=$((i+1)); done",
  "while [ ! -e go ]; do sleep 0.05; done",
  "while [ $i -lt 200 ]; do printf 'line %04d\\n' $i; i=$((i+1)); done",
  "exit 3",
].join("; ");

/** A runjob process with its stdout collected, and a way to wait until stdout holds `text`. */
function watchRunjob(server: ServerProcess, args: string[]) {
  const child = spawnRunjob(server, args);
  let stdout = "";
  let stderr = "";
  const waiters: { text: string; wake: () => void }[] = [];
  child.stdout.on("data", (data: Buffer) => {
    stdout += data.toString();
    for (const waiter of waiters.filter((w) => stdout.includes(w.text))) waiter.wake();
  });
  child.stderr.on("data", (data: Buffer) => {
    stderr += data.toString();
    for (const waiter of waiters.filter((w) => stderr.includes(w.text))) waiter.wake();
  });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  return {
    printed: (text: string) =>
      stdout.includes(text) || stderr.includes(text)
        ? Promise.resolve()
        : new Promise<void>((wake) => waiters.push({ text, wake })),
    exited,
    output: () => ({ stdout, stderr }),
  };
}

describe.skipIf(needsRoot)("runjob across a server restart (needs root: real server and jobs)", () => {
  let server: ServerProcess;

  beforeAll(async () => {
    server = await ServerProcess.start();
  });

  afterAll(async () => {
    await server.dispose();
  });

  /** Restarts the server the way `how` says, then lets the job print its second half. */
  async function restartMidJob(id: string, how: "SIGTERM" | "SIGKILL"): Promise<void> {
    await server.kill(how);
    await server.restart();
    const client = await server.client();
    // The job outlived the server: the new one re-adopted it.
    expect((await client.getJob({ id })).job?.state).toBe(JobState.RUNNING);
    await writeInJob(server.cgroupParent, id, "/work/go", "");
  }

  it.each(["SIGTERM", "SIGKILL"] as const)(
    "logs -f and wait, across a restart (%s): stdout is exactly the job's bytes, and wait exits with its code",
    async (how) => {
      const started = await runjob(server, ["start", "--", "/bin/sh", "-c", SCRIPT]);
      const id = started.stdout.toString().trim();
      const follower = watchRunjob(server, ["logs", "-f", id]);
      const waiter = watchRunjob(server, ["wait", id]);
      await follower.printed("line 0099\n");
      await restartMidJob(id, how);
      expect(await follower.exited).toBe(0);
      expect(follower.output().stdout).toBe(EXPECTED);
      expect(follower.output().stderr).toMatch(/reconnecting for up to 1m0s[\s\S]*reconnected/);
      // With its stderr, so that a failure says why runjob gave up.
      expect({ code: await waiter.exited, stderr: waiter.output().stderr }).toMatchObject({ code: 3 });
    },
  );

  it("start --follow across a restart: every byte once, then the job's exit code", async () => {
    const follower = watchRunjob(server, ["start", "--follow", "--", "/bin/sh", "-c", SCRIPT]);
    await follower.printed("line 0099\n");
    const id = /^job (\S+)$/m.exec(follower.output().stderr)?.[1] ?? "";
    await restartMidJob(id, "SIGTERM");
    expect(await follower.exited).toBe(3);
    expect(follower.output().stdout).toBe(EXPECTED);
  });

  it("--reconnect 0 gives up at once: logs -f fails with UNAVAILABLE instead of exiting 0 mid-job", async () => {
    const started = await runjob(server, ["start", "--", "/bin/sh", "-c", SCRIPT]);
    const id = started.stdout.toString().trim();
    const follower = watchRunjob(server, ["logs", "-f", "--reconnect", "0", id]);
    await follower.printed("line 0099\n");
    await server.kill("SIGTERM");
    expect(await follower.exited).toBe(125);
    expect(follower.output().stderr).toMatch(/unavailable/i);
    // The job still runs: the next server re-adopts it, and cleaning up stops it.
    await server.restart();
    expect((await (await server.client()).getJob({ id })).job?.state).toBe(JobState.RUNNING);
  });
});
