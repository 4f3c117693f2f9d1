// buf curl (connect-go's gRPC, Connect and gRPC-Web clients) against a real server process,
// its schema read from the descriptor set of proto/.
import type { JobClient } from "@jobworker/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bufCurl, type CurlResult, TRANSPORTS, type Transport } from "./buf-curl.js";
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

const curl = (transport: Transport, identity: string, method: string, request: object) =>
  bufCurl(
    { port: server.process.port, certs: server.process.certs, descriptorSet: server.descriptorSet },
    transport,
    identity,
    method,
    request,
  );
const started = async (command: string, ...args: string[]) => (await alice.startJob({ command, args })).job!.id;
const ended = async (command: string, ...args: string[]) => {
  const id = await started(command, ...args);
  await alice.waitJob({ id });
  return id;
};
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
