import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isJobError } from "./errors.js";
import type { JobManager } from "./job-manager.js";
import { needsRoot, type TempManager, tempManager } from "./testing/temp-manager.js";
import { waitForOutput } from "./testing/wait-for-output.js";

const alice = { owner: "alice" };
const bob = { owner: "bob" };

/** The whole output of a job, as text. */
async function outputOf(manager: JobManager, id: string): Promise<string> {
  let text = "";
  for await (const chunk of manager.openOutput(id, alice)) text += Buffer.from(chunk.data).toString();
  return text;
}

describe.skipIf(needsRoot)("interactive jobs: stdin, a terminal, signals (needs root)", () => {
  let temp: TempManager;
  let manager: JobManager;

  beforeAll(async () => {
    temp = await tempManager({ maxConcurrentJobs: 8 });
    manager = temp.manager;
  });
  afterAll(() => temp.dispose());

  it("a job started with stdin reads what is written, and EOF once it is closed", async () => {
    const job = await manager.start("alice", { command: "sort", stdin: true });
    expect(job).toMatchObject({ stdin: true });
    const input = await manager.openInput(job.id, alice);
    await input.write(Buffer.from("b\na\n"));
    await input.closeInput();
    input.release();
    expect(await manager.wait(job.id, alice)).toMatchObject({ endReason: "exited", exitCode: 0 });
    expect(await outputOf(manager, job.id)).toBe("a\nb\n");
  });

  it("a job started without stdin refuses input with failed_precondition, and reads EOF", async () => {
    const job = await manager.start("alice", { command: "/bin/sh", args: ["-c", "cat; echo eof; sleep 1000"] });
    await waitForOutput(manager, job.id, "eof");
    const refused = await manager.openInput(job.id, alice).catch((error: unknown) => error);
    expect(isJobError(refused) && refused.code).toBe("failed_precondition");
    await manager.stop(job.id, alice, { graceMs: 0 });
  });

  it("another owner's job is not_found for input, signals and resizes", async () => {
    const job = await manager.start("alice", { command: "cat", tty: true });
    for (const attempt of [
      manager.openInput(job.id, bob),
      manager.signal(job.id, bob, "TERM"),
      manager.resize(job.id, bob, { rows: 10, columns: 10 }),
    ]) {
      const error = await attempt.catch((e: unknown) => e);
      expect(isJobError(error) && error.code).toBe("not_found");
    }
    await manager.stop(job.id, alice, { graceMs: 0 });
  });

  it("signal sends any signal to the main process, without the stop sequence", async () => {
    const job = await manager.start("alice", {
      command: "/bin/sh",
      args: ["-c", "trap 'echo hup' HUP; echo ready; while :; do sleep 0.05; done"],
    });
    await waitForOutput(manager, job.id, "ready");
    await manager.signal(job.id, alice, "SIGHUP");
    await waitForOutput(manager, job.id, "hup");
    expect(manager.get(job.id, alice).state).toBe("running");
    await manager.signal(job.id, alice, "kill");
    expect(await manager.wait(job.id, alice)).toMatchObject({ endReason: "signaled", signal: 9 });
    const late = await manager.signal(job.id, alice, "TERM").catch((e: unknown) => e);
    expect(isJobError(late) && late.code).toBe("failed_precondition");
    const unknown = await manager.signal(job.id, alice, "SIGNOPE").catch((e: unknown) => e);
    expect(isJobError(unknown) && unknown.code).toBe("invalid_argument");
  });

  it("a terminal job gets a tty of its own with the asked size, and its output is the terminal's", async () => {
    const job = await manager.start("alice", {
      command: "/bin/sh",
      args: ["-c", 'tty; stty size; read -r line; stty size; echo "got $line"; exit 3'],
      tty: true,
      terminalSize: { rows: 30, columns: 90 },
    });
    expect(job).toMatchObject({ stdin: true, tty: true });
    await waitForOutput(manager, job.id, "30 90");
    await manager.resize(job.id, alice, { rows: 50, columns: 150 });
    const input = await manager.openInput(job.id, alice);
    await input.write(Buffer.from("typed\r"));
    input.release();
    expect(await manager.wait(job.id, alice)).toMatchObject({ endReason: "exited", exitCode: 3 });
    const output = await outputOf(manager, job.id);
    expect(output).toMatch(/^\/dev\/pts\/\d+\r\n30 90\r\n/);
    expect(output).toContain("50 150\r\ngot typed\r\n");
    const refused = await manager.resize(job.id, alice, { rows: 0, columns: 10 }).catch((e: unknown) => e);
    expect(isJobError(refused) && refused.code).toBe("invalid_argument");
  });

  it("exec runs a process in the job: its hostname, uid, cgroup, PID namespace and seccomp filter", async () => {
    const job = await manager.start("alice", {
      command: "/bin/sh",
      args: ["-c", "hostname; id -u; cat /proc/self/cgroup; echo ready; sleep 1000"],
    });
    await waitForOutput(manager, job.id, "ready");
    const script =
      "hostname; id -u; cat /proc/self/cgroup; ps -e -o comm= | grep -c sleep; unshare -U true || echo refused >&2; exit 6";
    const exec = await manager.exec(job.id, alice, { command: "sh", args: ["-c", script] });
    let stdout = "";
    let stderr = "";
    let end: unknown;
    for await (const event of exec.events()) {
      if (event.kind === "stdout") stdout += Buffer.from(event.data).toString();
      else if (event.kind === "stderr") stderr += Buffer.from(event.data).toString();
      else end = event;
    }
    exec.release();
    expect(end).toEqual({ kind: "exit", exitCode: 6 });
    const jobOutput = await new Promise<string>((resolve) => {
      let text = "";
      (async () => {
        for await (const chunk of manager.openOutput(job.id, alice)) text += Buffer.from(chunk.data).toString();
        resolve(text);
      })();
    });
    // Same hostname, uid and cgroup as the job itself; its sleep is in sight; unshare is refused.
    expect(stdout).toBe(`${jobOutput.replace("ready\n", "")}1\n`);
    expect(stderr).toMatch(/refused/);
    // The job's output has nothing of the exec's.
    expect(jobOutput).not.toContain("refused");

    const missing = await manager.exec(job.id, alice, { command: "no-such-program" });
    const failure = await (async () => {
      for await (const _ of missing.events()) {
        // nothing comes before the failure
      }
    })().catch((error: unknown) => error);
    missing.release();
    expect(isJobError(failure) && failure.code).toBe("invalid_argument");
    expect(String(failure)).toMatch(/cannot execute no-such-program in the job: ENOENT/);

    const foreign = await manager.exec(job.id, bob, { command: "true" }).catch((e: unknown) => e);
    expect(isJobError(foreign) && foreign.code).toBe("not_found");
    await manager.stop(job.id, alice, { graceMs: 0 });
    const late = await manager.exec(job.id, alice, { command: "true" }).catch((e: unknown) => e);
    expect(isJobError(late) && late.code).toBe("failed_precondition");
  });

  it("a terminal job is reachable again after a restart: input, resize and output carry on", async () => {
    const job = await manager.start("alice", {
      command: "/bin/sh",
      args: ["-c", 'echo ready; read -r line; stty size; echo "after $line"'],
      tty: true,
    });
    await waitForOutput(manager, job.id, "ready");
    manager = await temp.reopen();
    expect(manager.get(job.id, alice)).toMatchObject({ state: "running", tty: true, stdin: true });
    await manager.resize(job.id, alice, { rows: 17, columns: 71 });
    const input = await manager.openInput(job.id, alice);
    await input.write(Buffer.from("restart\r"));
    input.release();
    expect(await manager.wait(job.id, alice)).toMatchObject({ exitCode: 0 });
    expect(await outputOf(manager, job.id)).toContain("17 71\r\nafter restart\r\n");
  });
});
