// buf curl (connect-go's gRPC, Connect and gRPC-Web clients) against a real server process,
// its schema read from the descriptor set of proto/.
import type { JobClient } from "@jobworker/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bufCurl, bufCurlUntil, type CurlResult, TRANSPORTS, type Transport } from "./buf-curl.js";
import { serviceMethods } from "./descriptor-set.js";
import { type InteropServer, startInteropServer } from "./interop-server.js";

let server: InteropServer;
let alice: JobClient;
beforeAll(async () => {
  server = await startInteropServer();
  alice = await server.process.client("alice");
});
afterAll(async () => {
  await server?.dispose();
});

const target = () => ({ port: server.process.port, certs: server.process.certs, descriptorSet: server.descriptorSet });
const curl = (transport: Transport, identity: string, method: string, request: object | object[]) =>
  bufCurl(target(), transport, identity, method, request);
const started = async (command: string, ...args: string[]) => (await alice.startJob({ command, args })).job!.id;
const ended = async (command: string, ...args: string[]) => {
  const id = await started(command, ...args);
  await alice.waitJob({ id });
  return id;
};
const withStdin = async (command: string, args: string[], tty = false) =>
  (await alice.startJob({ command, args, stdin: true, tty })).job!.id;
const outputOf = async (id: string) => {
  const chunks: Uint8Array[] = [];
  for await (const chunk of alice.streamOutput({ id })) chunks.push(chunk.data);
  return Buffer.concat(chunks).toString("latin1");
};
const base64 = (text: string) => Buffer.from(text, "latin1").toString("base64");
const only = (result: CurlResult) => {
  expect(result.error).toBeUndefined();
  expect(result.messages).toHaveLength(1);
  return result.messages[0] as { job: Record<string, unknown> } & Record<string, unknown>;
};

/** One case per RPC, called through buf curl; the set is checked against the proto's methods below. */
const CASES: Record<string, (t: Transport) => Promise<void>> = {
  async StartJob(t) {
    const { job } = only(await curl(t, "alice", "StartJob", { command: "/bin/echo", args: ["hi"] }));
    expect(job.owner).toBe("alice");
  },
  async StopJob(t) {
    const id = await started("/bin/sleep", "600");
    only(await curl(t, "alice", "StopJob", { id, gracePeriod: "1s" }));
    expect((await alice.waitJob({ id })).job?.endReason).toBeGreaterThan(0);
  },
  async GetJob(t) {
    const id = await started("/bin/true");
    expect(only(await curl(t, "alice", "GetJob", { id })).job.id).toBe(id);
  },
  async WaitJob(t) {
    const id = await started("/bin/sh", "-c", "exit 3");
    expect(only(await curl(t, "alice", "WaitJob", { id })).job.exitCode).toBe(3);
  },
  async ListJobs(t) {
    const id = await started("/bin/true");
    const { jobs } = only(await curl(t, "alice", "ListJobs", { pageSize: 1000 })) as unknown as {
      jobs: { id: string }[];
    };
    expect(jobs.map((j) => j.id)).toContain(id);
  },
  async StreamOutput(t) {
    const id = await ended("/bin/sh", "-c", "printf 'one\\0two\\377'");
    const { messages, error } = await curl(t, "alice", "StreamOutput", { id });
    expect(error).toBeUndefined();
    const data = Buffer.concat(messages.map((m) => Buffer.from(String(m.data), "base64")));
    expect(data).toEqual(Buffer.from("one\0two\xff", "latin1"));
  },
  async DeleteJob(t) {
    const id = await ended("/bin/true");
    expect(only(await curl(t, "alice", "DeleteJob", { id }))).toEqual({});
    await expect(alice.getJob({ id })).rejects.toThrow(/not found/);
  },
  async CleanJobs(t) {
    await ended("/bin/true");
    expect(only(await curl(t, "alice", "CleanJobs", {})).deletedCount).toBeGreaterThanOrEqual(1);
  },
  async AttachJob(t) {
    const id = await withStdin("/bin/cat", []);
    const { messages, error } = await curl(t, "alice", "AttachJob", [
      { start: { id, fromOffset: "0" } },
      { input: base64("ping\0\xff\n") },
      { closeInput: {} },
    ]);
    expect(error).toBeUndefined();
    const outputs = messages.flatMap((m) =>
      m.output ? [Buffer.from(String((m.output as { data: string }).data), "base64")] : [],
    );
    expect(Buffer.concat(outputs).toString("latin1")).toBe("ping\0\xff\n");
    expect(messages.at(-1)?.ended).toMatchObject({ id, exitCode: 0 });
  },
  async WriteJobInput(t) {
    const id = await withStdin("/bin/cat", []);
    expect(only(await curl(t, "alice", "WriteJobInput", { id, data: base64("written\n"), close: true }))).toEqual({});
    expect((await alice.waitJob({ id })).job?.exitCode).toBe(0);
    expect(await outputOf(id)).toBe("written\n");
  },
  async ResizeJobTerminal(t) {
    // The shell reads one line, then prints the size its terminal has by then.
    const id = await withStdin("/bin/sh", ["-c", "read line; stty size"], true);
    only(await curl(t, "alice", "ResizeJobTerminal", { id, size: { rows: 33, columns: 103 } }));
    await alice.writeJobInput({ id, data: Buffer.from("go\n") });
    expect((await alice.waitJob({ id })).job?.exitCode).toBe(0);
    expect(await outputOf(id)).toMatch(/33 103\r\n$/);
  },
  async SignalJob(t) {
    const id = await started("/bin/sleep", "600");
    expect(only(await curl(t, "alice", "SignalJob", { id, signal: "SIGUSR1" }))).toEqual({});
    expect((await alice.waitJob({ id })).job?.signal).toBe(10);
  },
  async ExecJob(t) {
    const id = await started("/bin/sleep", "600");
    const { messages, error } = await curl(t, "alice", "ExecJob", [
      { start: { id, command: "/bin/sh", args: ["-c", "echo inside; exit 5"] } },
    ]);
    await alice.stopJob({ id, gracePeriod: { seconds: 0n } });
    expect(error).toBeUndefined();
    const stdout = messages.flatMap((m) => (m.stdout ? [Buffer.from(String(m.stdout), "base64")] : []));
    expect(Buffer.concat(stdout).toString()).toBe("inside\n");
    expect(messages.at(-1)?.exit).toEqual({ exitCode: 5 });
  },
  async WatchJobs(t) {
    const id = await ended("/bin/true");
    type Event = { type: string; job?: { id: string } };
    const eventsOf = (messages: Record<string, unknown>[]) => messages.flatMap((m) => (m.events ?? []) as Event[]);
    // A watch never ends by itself: read it until the snapshot is complete, then hang up.
    const messages = await bufCurlUntil(target(), t, "alice", "WatchJobs", {}, (sofar) =>
      eventsOf(sofar).some((event) => event.type === "JOB_EVENT_TYPE_SYNCED"),
    );
    const events = eventsOf(messages);
    expect(events.some((event) => event.type === "JOB_EVENT_TYPE_SNAPSHOT" && event.job?.id === id)).toBe(true);
  },
  async WatchUsage(t) {
    const id = await started("/bin/sleep", "600");
    type Sample = { id: string; usage?: { memoryCurrentBytes?: string } };
    const samplesOf = (messages: Record<string, unknown>[]) => messages.flatMap((m) => (m.jobs ?? []) as Sample[]);
    const messages = await bufCurlUntil(
      target(),
      t,
      "alice",
      "WatchUsage",
      { ids: [id], interval: "0.25s" },
      (sofar) => samplesOf(sofar).length >= 2,
    );
    await alice.stopJob({ id, gracePeriod: { seconds: 0n } });
    const samples = samplesOf(messages);
    expect(samples.every((sample) => sample.id === id && Number(sample.usage?.memoryCurrentBytes) > 0)).toBe(true);
  },
};

describe("buf curl", () => {
  it("has a case for every RPC of the service in proto/", () => {
    expect(Object.keys(CASES).sort()).toEqual(serviceMethods(server.descriptorSet).sort());
  });

  describe.each(TRANSPORTS)("over $protocol", (transport) => {
    it.each(Object.keys(CASES))("calls %s", async (method) => {
      await CASES[method]!(transport);
    });

    it("gets NOT_FOUND for another user's job, PERMISSION_DENIED without a role, INVALID_ARGUMENT for a bad id", async () => {
      const id = await started("/bin/true");
      expect((await curl(transport, "bob", "GetJob", { id })).error?.code).toBe("not_found");
      expect((await curl(transport, "nobody", "GetJob", { id })).error?.code).toBe("permission_denied");
      expect((await curl(transport, "bob", "ListJobs", { owner: "alice" })).error?.code).toBe("permission_denied");
      expect((await curl(transport, "alice", "GetJob", { id: "nope" })).error?.code).toBe("invalid_argument");
    });
  });
});
