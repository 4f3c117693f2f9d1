import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readExitRecord } from "./exit-record.js";
import { JobChannel } from "./job-channel.js";
import type { LaunchSpec } from "./launch-spec.js";
import { LauncherService } from "./launcher-service.js";
import { testLaunchSpec } from "./testing/test-launch-spec.js";
import { waitForLog } from "./testing/wait-for-log.js";

const needsRoot = process.getuid?.() !== 0;
const UID = 299_998;

describe.skipIf(needsRoot)("a running job's attach socket (needs root: namespaces and setuid)", () => {
  let stateDir: string;
  let jobDir: string;
  let service: LauncherService;
  const spec = (argv: string[], more: Partial<LaunchSpec> = {}): LaunchSpec =>
    testLaunchSpec({ stateDir, jobDir, uid: UID, hostname: "job-channel", limitBytes: 64 * 2 ** 20 }, argv, more);
  const log = () => readFile(join(jobDir, "output.log"));

  beforeAll(() => {
    service = new LauncherService();
  });
  afterAll(() => service.close());
  beforeEach(async () => {
    stateDir = await mkdtemp("/var/tmp/jobworker-test-channel-");
    jobDir = join(stateDir, "jobs", "j1");
    await mkdir(jobDir, { recursive: true });
  });
  afterEach(() => rm(stateDir, { recursive: true, force: true }));

  it("feeds a piped stdin binary-safe, and closing it gives the job EOF", async () => {
    const launched = await service.launch(spec(["/bin/cat"], { stdin: "pipe" }));
    const channel = await JobChannel.connect(jobDir);
    const data = randomBytes(3 * 2 ** 20 + 7);
    await channel.write(data);
    await channel.closeInput();
    channel.close();
    expect(await launched.launcherExited).toBe(true);
    expect(await readExitRecord(jobDir)).toEqual({ kind: "exited", exitCode: 0 });
    expect((await log()).equals(data)).toBe(true);
  });

  it("serves a job dir deeper than a socket's path can name (107 bytes)", async () => {
    jobDir = join(stateDir, "jobs", "d".repeat(100), "0123456789abcdef-0123456789abcdef");
    await mkdir(jobDir, { recursive: true });
    expect(join(jobDir, "attach.sock").length).toBeGreaterThan(107);
    const launched = await service.launch(spec(["/bin/cat"], { stdin: "pipe" }));
    const channel = await JobChannel.connect(jobDir);
    await channel.write(Buffer.from("deep\n"));
    await channel.closeInput();
    channel.close();
    expect(await launched.launcherExited).toBe(true);
    expect((await log()).toString()).toBe("deep\n");
  });

  it("holds back a writer while the job does not read, holding no more than one message itself", async () => {
    // The job reads nothing until SIGUSR1; meanwhile it prints a tick now and then, so the test can see time pass.
    const script = "trap 'exec cat' USR1; n=0; while :; do n=$((n+1)); echo tick $n; sleep 0.05; done";
    const launched = await service.launch(spec(["/bin/sh", "-c", script], { stdin: "pipe" }));
    await waitForLog(join(jobDir, "output.log"), "tick 1\n");
    const channel = await JobChannel.connect(jobDir);
    const data = randomBytes(16 * 2 ** 20);
    let written = false;
    const writing = channel.write(data).then(() => {
      written = true;
    });
    await waitForLog(join(jobDir, "output.log"), "tick 10\n");
    expect(written).toBe(false);
    // 16 MiB are waiting; the launcher holds its one message and its socket buffers, not them.
    expect(await residentKiB(launched.launcherPid)).toBeLessThan(4096);
    // A message waits behind the input on its connection: signals go on one of their own.
    const control = await JobChannel.connect(jobDir);
    await control.signal(10);
    control.close();
    await writing;
    await channel.closeInput();
    channel.close();
    await launched.launcherExited;
    const output = await log();
    expect(output.subarray(output.length - data.length).equals(data)).toBe(true);
  });

  it("a client that writes and goes away at once still has all its input and its EOF delivered", async () => {
    const script = "trap 'exec cat' USR1; echo ready; while :; do sleep 0.05; done";
    const launched = await service.launch(spec(["/bin/sh", "-c", script], { stdin: "pipe" }));
    await waitForLog(join(jobDir, "output.log"), "ready");
    // Four messages fill the job's pipe, the launcher holds the fifth, and the small last one and the
    // EOF wait in its buffer when it reads the end of the connection: all must still reach the job.
    const data = randomBytes(5 * 16_384 + 100);
    const writer = await JobChannel.connect(jobDir);
    await writer.write(data);
    await writer.closeInput();
    writer.close();
    const control = await JobChannel.connect(jobDir);
    await control.signal(10);
    control.close();
    expect(await launched.launcherExited).toBe(true);
    expect(await readExitRecord(jobDir)).toEqual({ kind: "exited", exitCode: 0 });
    expect((await log()).subarray("ready\n".length).equals(data)).toBe(true);
  });

  it("without stdin the job reads EOF, and input sent to it is dropped", async () => {
    const launched = await service.launch(spec(["/bin/sh", "-c", "cat; echo done"]));
    expect(await launched.launcherExited).toBe(true);
    expect((await log()).toString()).toBe("done\n");
  });

  it("sends any signal to the job's main process, SIGKILL and SIGSTOP included", async () => {
    const launched = await service.launch(
      spec(["/bin/sh", "-c", "trap 'echo got-usr1' USR1; echo ready; while :; do sleep 0.1; done"]),
    );
    await waitForLog(join(jobDir, "output.log"), "ready");
    const channel = await JobChannel.connect(jobDir);
    await channel.signal(10); // SIGUSR1
    await waitForLog(join(jobDir, "output.log"), "got-usr1");
    await channel.signal(9);
    expect(await launched.launcherExited).toBe(true);
    // The init saw its main process die of SIGKILL and said so: the status is known.
    expect(await readExitRecord(jobDir)).toEqual({ kind: "signaled", signal: 9, statusKnown: true });
    channel.close();
    await expect(JobChannel.connect(jobDir)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("gives a terminal job a tty of its own devpts with the asked size, resizes it, and sends input through it", async () => {
    const script = 'tty; stty size; echo ready; read -r line; stty size; echo "got $line"; exit 3';
    const launched = await service.launch(
      spec(["/bin/sh", "-c", script], { stdin: "tty", terminalSize: { rows: 33, columns: 101 } }),
    );
    await waitForLog(join(jobDir, "output.log"), "ready");
    const channel = await JobChannel.connect(jobDir);
    await channel.resize({ rows: 40, columns: 120 });
    await channel.write(Buffer.from("hello\r"));
    expect(await launched.launcherExited).toBe(true);
    channel.close();
    expect(await readExitRecord(jobDir)).toEqual({ kind: "exited", exitCode: 3 });
    const text = (await log()).toString();
    expect(text).toMatch(/^\/dev\/pts\/0\r\n33 101\r\nready\r\n/);
    expect(text).toContain("40 120\r\ngot hello\r\n");
  });

  it("exec runs a process in the job's namespaces, cgroup and uid, with its own stdio and exit status", async () => {
    const launched = await service.launch(spec(["/bin/sh", "-c", "echo ready; sleep 1000"]));
    await waitForLog(join(jobDir, "output.log"), "ready");
    const channel = await JobChannel.connect(jobDir);
    const script = 'hostname; id -u; cat; echo oops >&2; ps -e -o comm= | sort | tr "\\n" " "; exit 4';
    await channel.exec({ argv: ["sh", "-c", script], env: { PATH: "/usr/bin:/bin" } });
    await channel.write(Buffer.from("from-stdin\n"));
    await channel.closeInput();
    let stdout = "";
    let stderr = "";
    let status = -1;
    for await (const event of channel.execEvents()) {
      if (event.kind === "stdout") stdout += Buffer.from(event.data).toString();
      if (event.kind === "stderr") stderr += Buffer.from(event.data).toString();
      if (event.kind === "exit") status = event.status;
    }
    channel.close();
    expect(stdout).toMatch(/^job-channel\n299998\nfrom-stdin\n/);
    // ps sees the job's processes (its init, its sleep) and its own: one PID namespace.
    expect(stdout).toContain("jobworker-launc ps sh sh sleep sort tr");
    expect(stderr).toBe("oops\n");
    expect(status >> 8).toBe(4);
    // The job itself is untouched, and its output has nothing of the exec's.
    expect((await log()).toString()).toBe("ready\n");
    const stopper = await JobChannel.connect(jobDir);
    await stopper.signal(9);
    stopper.close();
    await launched.launcherExited;
  });

  it("exec of a missing program fails with its errno, and a terminal exec gets a tty", async () => {
    const launched = await service.launch(spec(["/bin/sh", "-c", "echo ready; sleep 1000"]));
    await waitForLog(join(jobDir, "output.log"), "ready");
    const missing = await JobChannel.connect(jobDir);
    await missing.exec({ argv: ["no-such-program"], env: { PATH: "/usr/bin:/bin" } });
    const events = [];
    for await (const event of missing.execEvents()) events.push(event);
    missing.close();
    expect(events).toEqual([{ kind: "failed", errno: 2, what: "execve no-such-program" }]);

    const terminal = await JobChannel.connect(jobDir);
    await terminal.exec({
      argv: ["sh", "-c", "tty; stty size"],
      env: { PATH: "/usr/bin:/bin" },
      terminalSize: { rows: 11, columns: 44 },
    });
    let output = "";
    for await (const event of terminal.execEvents())
      if (event.kind === "stdout") output += Buffer.from(event.data).toString();
    terminal.close();
    expect(output).toMatch(/^\/dev\/pts\/\d+\r\n11 44\r\n$/);
    const stopper = await JobChannel.connect(jobDir);
    await stopper.signal(9);
    stopper.close();
    await launched.launcherExited;
  });
});

/** A process's resident memory, from /proc. */
async function residentKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
}
