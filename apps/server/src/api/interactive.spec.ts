import { randomBytes } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { type AttachJobRequestSchema, type ExecJobRequestSchema, JobState } from "@jobworker/proto";
import { codeOf } from "@jobworker/testkit";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  clientFor,
  disposeTestServer,
  type JobClient,
  type ServedTestServer,
  startServedTestServer,
  startTestServer,
} from "../testing/test-server.js";

const needsRoot = process.getuid?.() !== 0;

type AttachJobRequest = MessageInitShape<typeof AttachJobRequestSchema>;
type ExecJobRequest = MessageInitShape<typeof ExecJobRequestSchema>;

/** Runs an exec to its end: what it wrote and how it ended. */
async function execIn(client: JobClient, start: ExecJobRequest["action"] & { case: "start" }, input?: string) {
  async function* messages(): AsyncGenerator<ExecJobRequest> {
    yield { action: start };
    if (input !== undefined) {
      yield { action: { case: "input", value: Buffer.from(input) } };
      yield { action: { case: "closeInput", value: {} } };
    }
  }
  let stdout = "";
  let stderr = "";
  let exit: { exitCode?: number; signal?: number } | undefined;
  for await (const response of client.execJob(messages())) {
    const { event } = response;
    if (event.case === "stdout") stdout += Buffer.from(event.value).toString();
    if (event.case === "stderr") stderr += Buffer.from(event.value).toString();
    if (event.case === "exit") exit = { exitCode: event.value.exitCode, signal: event.value.signal };
  }
  return { stdout, stderr, exit };
}

/** A client stream of AttachJob messages: `start` for the job, then `more`. */
async function* attachMessages(
  id: string,
  more: NonNullable<AttachJobRequest["action"]>[],
  fromOffset: bigint | undefined = 0n,
): AsyncGenerator<AttachJobRequest> {
  yield { action: { case: "start", value: { id, fromOffset } } };
  for (const action of more) yield { action };
}

/** Everything an attach sends back: the output bytes and the job as it ended. */
async function attach(client: JobClient, messages: AsyncIterable<AttachJobRequest>) {
  const chunks: Buffer[] = [];
  let exitCode: number | undefined;
  let offset = -1n;
  for await (const response of client.attachJob(messages)) {
    if (response.event.case === "output") {
      if (offset < 0n) offset = response.event.value.offset;
      chunks.push(Buffer.from(response.event.value.data));
    }
    if (response.event.case === "ended") exitCode = response.event.value.exitCode;
  }
  return { output: Buffer.concat(chunks), exitCode, offset };
}

/** Follows a job's output until `text` appears. */
async function waitForText(client: JobClient, id: string, text: string): Promise<void> {
  let seen = "";
  for await (const chunk of client.streamOutput({ id, follow: true }, { signal: AbortSignal.timeout(30_000) })) {
    seen += Buffer.from(chunk.data).toString();
    if (seen.includes(text)) return;
  }
  throw new Error(`job ${id} ended without printing ${JSON.stringify(text)}: ${JSON.stringify(seen)}`);
}

describe.skipIf(needsRoot)("interactive jobs over the API (needs root)", () => {
  let served: ServedTestServer;
  let alice: JobClient;
  let bob: JobClient;

  beforeAll(async () => {
    served = await startServedTestServer();
    ({ alice, bob } = served);
  });
  afterAll(() => served.dispose());

  it("AttachJob feeds stdin, closes it, streams the output and ends with the job", async () => {
    const { job } = await alice.startJob({ command: "sort", stdin: true });
    expect(job).toMatchObject({ stdin: true, tty: false });
    const id = job?.id ?? "";
    const result = await attach(
      alice,
      attachMessages(id, [
        { case: "input", value: Buffer.from("b\n") },
        { case: "input", value: Buffer.from("a\n") },
        { case: "closeInput", value: {} },
      ]),
    );
    expect(result).toMatchObject({ exitCode: 0, offset: 0n });
    expect(result.output.toString()).toBe("a\nb\n");
  });

  it("WriteJobInput with close succeeds when the job ends on the line it was given (20 times)", async () => {
    // The job exits as soon as it has read the line, often before the close reaches its launcher.
    for (let i = 0; i < 20; i++) {
      const { job } = await alice.startJob({
        command: "/bin/sh",
        args: ["-c", 'read line; echo "got $line"'],
        stdin: true,
      });
      const id = job?.id ?? "";
      await alice.writeJobInput({ id, data: Buffer.from(`line ${i}\n`), close: true });
      expect(await alice.waitJob({ id })).toMatchObject({ job: { exitCode: 0 } });
    }
  });

  it("AttachJob carries binary stdin byte for byte, as fast as the job reads it", async () => {
    const id = (await alice.startJob({ command: "cat", stdin: true })).job?.id ?? "";
    const data = randomBytes(16 * 2 ** 20);
    async function* messages(): AsyncGenerator<AttachJobRequest> {
      yield { action: { case: "start", value: { id, fromOffset: 0n } } };
      for (let at = 0; at < data.length; at += 256 * 1024) {
        yield { action: { case: "input", value: data.subarray(at, at + 256 * 1024) } };
      }
      yield { action: { case: "closeInput", value: {} } };
    }
    const result = await attach(alice, messages());
    expect(result.exitCode).toBe(0);
    expect(result.output.equals(data)).toBe(true);
  });

  it("a job that does not read its stdin holds back the sender, not the server's memory", async () => {
    // The job reads nothing until SIGUSR1, and prints a tick now and then, so the test can see time pass.
    const script = "trap 'exec cat' USR1; n=0; while :; do n=$((n+1)); echo tick $n; sleep 0.05; done";
    const id = (await alice.startJob({ command: "/bin/sh", args: ["-c", script], stdin: true })).job?.id ?? "";
    await waitForText(alice, id, "tick 1\n");
    const data = randomBytes(64 * 2 ** 20);
    let sent = 0;
    async function* messages(): AsyncGenerator<AttachJobRequest> {
      yield { action: { case: "start", value: { id } } };
      for (let at = 0; at < data.length; at += 64 * 1024) {
        const piece = data.subarray(at, at + 64 * 1024);
        yield { action: { case: "input", value: piece } };
        sent += piece.length;
      }
      yield { action: { case: "closeInput", value: {} } };
    }
    const attached = attach(alice, messages());
    await waitForText(alice, id, "tick 20\n");
    // What left the client is bounded by the HTTP/2 windows and socket buffers, not by what it has to send.
    expect(sent).toBeLessThan(32 * 2 ** 20);
    await alice.signalJob({ id, signal: "USR1" });
    const result = await attached;
    expect(sent).toBe(data.length);
    expect(result.exitCode).toBe(0);
    // Attached without an offset: from the end of the output then, so only what cat gave back follows the ticks.
    expect(result.output.subarray(result.output.length - data.length).equals(data)).toBe(true);
  });

  it.each([
    ["Connect", "connect"],
    ["gRPC-Web", "grpc-web"],
  ] as const)(
    "a browser's way: output by StreamOutput, input, resize and signals by unary calls, over %s on HTTP/1.1",
    async (_name, protocol) => {
      const browser = clientFor(served.server, served.pki, served.pki.clients.alice, { protocol, httpVersion: "1.1" });
      const script =
        "stty size; read -r a; stty size; read -r b; echo \"$a $b\"; trap 'exit 5' INT; echo waiting; while :; do sleep 0.05; done";
      const { job } = await browser.startJob({
        command: "/bin/sh",
        args: ["-c", script],
        tty: true,
        terminalSize: { rows: 20, columns: 70 },
      });
      expect(job).toMatchObject({ stdin: true, tty: true });
      const id = job?.id ?? "";
      await waitForText(browser, id, "20 70");
      await browser.resizeJobTerminal({ id, size: { rows: 21, columns: 71 } });
      await browser.writeJobInput({ id, data: Buffer.from("one\r") });
      await waitForText(browser, id, "21 71");
      await browser.writeJobInput({ id, data: Buffer.from("two\r") });
      await waitForText(browser, id, "waiting");
      await browser.signalJob({ id, signal: "INT" });
      const ended = (await browser.waitJob({ id })).job;
      expect(ended).toMatchObject({ state: JobState.ENDED, exitCode: 5 });
      let output = "";
      for await (const chunk of browser.streamOutput({ id })) output += Buffer.from(chunk.data).toString();
      expect(output).toContain("one two\r\n");
    },
  );

  it("only the owner may attach, write, resize or signal: another user's job is NOT_FOUND", async () => {
    const id = (await alice.startJob({ command: "cat", tty: true })).job?.id ?? "";
    expect(await codeOf(attach(bob, attachMessages(id, [])))).toBe(Code.NotFound);
    expect(await codeOf(bob.writeJobInput({ id, data: Buffer.from("x") }))).toBe(Code.NotFound);
    expect(await codeOf(bob.resizeJobTerminal({ id, size: { rows: 1, columns: 1 } }))).toBe(Code.NotFound);
    expect(await codeOf(bob.signalJob({ id, signal: "KILL" }))).toBe(Code.NotFound);
    expect((await alice.getJob({ id })).job?.state).toBe(JobState.RUNNING);
    // The admin may.
    await served.admin.signalJob({ id, signal: "KILL" });
    expect((await alice.waitJob({ id })).job).toMatchObject({ signal: 9 });
  });

  it("refuses what cannot work with a clear code, and keeps serving", async () => {
    const id = (await alice.startJob({ command: "sleep", args: ["1000"] })).job?.id ?? "";
    expect(await codeOf(alice.writeJobInput({ id, data: Buffer.from("x") }))).toBe(Code.FailedPrecondition);
    expect(await codeOf(alice.resizeJobTerminal({ id, size: { rows: 5, columns: 5 } }))).toBe(Code.FailedPrecondition);
    expect(await codeOf(alice.signalJob({ id, signal: "NOPE" }))).toBe(Code.InvalidArgument);
    expect(await codeOf(alice.writeJobInput({ id, data: new Uint8Array(1024 * 1024 + 1) }))).toBe(Code.InvalidArgument);
    async function* noStart(): AsyncGenerator<AttachJobRequest> {
      yield { action: { case: "input", value: Buffer.from("x") } };
    }
    expect(await codeOf(attach(alice, noStart()))).toBe(Code.InvalidArgument);
    expect(await codeOf(attach(alice, attachMessages(id, [{ case: "input", value: Buffer.from("x") }])))).toBe(
      Code.FailedPrecondition,
    );
    await alice.signalJob({ id });
    expect((await alice.waitJob({ id })).job).toMatchObject({ signal: 15 });
  });

  it("ExecJob runs a process in the job: its hostname, its processes in sight, its own stdio and exit code", async () => {
    const id =
      (await alice.startJob({ command: "/bin/sh", args: ["-c", "hostname; echo ready; sleep 1000"] })).job?.id ?? "";
    await waitForText(alice, id, "ready");
    const result = await execIn(
      alice,
      {
        case: "start",
        value: { id, command: "sh", args: ["-c", "hostname; ps -e -o comm= | grep -c sleep; cat; echo e >&2; exit 9"] },
      },
      "typed\n",
    );
    const jobHostname = (await collectText(alice, id)).split("\n")[0];
    expect(result).toEqual({ stdout: `${jobHostname}\n1\ntyped\n`, stderr: "e\n", exit: { exitCode: 9 } });
    const tty = await execIn(alice, {
      case: "start",
      value: { id, command: "sh", args: ["-c", "tty; stty size"], tty: true, terminalSize: { rows: 12, columns: 34 } },
    });
    expect(tty.stdout).toMatch(/^\/dev\/pts\/\d+\r\n12 34\r\n$/);
    expect(await codeOf(execIn(alice, { case: "start", value: { id, command: "no-such-program" } }))).toBe(
      Code.InvalidArgument,
    );
    expect(await codeOf(execIn(bob, { case: "start", value: { id, command: "hostname" } }))).toBe(Code.NotFound);
    await alice.signalJob({ id, signal: "KILL" });
    await alice.waitJob({ id });
    expect(await codeOf(execIn(alice, { case: "start", value: { id, command: "hostname" } }))).toBe(
      Code.FailedPrecondition,
    );
  });

  it("each attach, write, resize, signal and exec is an audit line naming the job; input is never logged", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const logged = await startTestServer(served.pki, undefined, [], logger);
    try {
      const client = clientFor(logged.server, served.pki, served.pki.clients.bob);
      const id = (await client.startJob({ command: "cat", tty: true })).job?.id ?? "";
      await client.writeJobInput({ id, data: Buffer.from("secret-keystrokes\r") });
      await client.resizeJobTerminal({ id, size: { rows: 9, columns: 9 } });
      await execIn(client, { case: "start", value: { id, command: "true" } });
      await attach(
        client,
        attachMessages(id, [
          { case: "input", value: Buffer.from("more-secret\r") },
          { case: "signal", value: "KILL" },
        ]),
      );
      const audits = lines.filter((line) => line.audit).map((line) => [line.audit, line.job, line.caller]);
      expect(audits).toEqual([
        ["start", id, "bob"],
        ["write", id, "bob"],
        ["resize", id, "bob"],
        ["exec", id, "bob"],
        ["attach", id, "bob"],
        ["signal", id, "bob"],
      ]);
      expect(JSON.stringify(lines)).not.toContain("secret");
    } finally {
      await disposeTestServer(logged.server, logged.config);
    }
  });
});

/** A job's whole output so far, as text. */
async function collectText(client: JobClient, id: string): Promise<string> {
  let text = "";
  for await (const chunk of client.streamOutput({ id })) text += Buffer.from(chunk.data).toString();
  return text;
}
