// Python's grpcio (gRPC C-core, default settings, mutual TLS 1.3) against a real server process.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InteropServer, startInteropServer, until } from "./interop-server.js";
import { PythonScenario, runPython } from "./python-client.js";

const MIB = 1024 * 1024;
/** A job that writes `bytes` of python/interop_client.py's pattern: SHA-256 of each block number, every byte value. */
const patternJob = (bytes: number) => ({
  command: "/usr/bin/python3",
  args: [
    "-c",
    `import hashlib,sys\nw=sys.stdout.buffer.write\nfor i in range(${bytes / 32}): w(hashlib.sha256(i.to_bytes(8,'big')).digest())`,
  ],
});
const TICKING = { command: "/bin/sh", args: ["-c", "while :; do echo tick; sleep 0.05; done"] };

let server: InteropServer;
beforeAll(async () => {
  server = await startInteropServer();
});
afterAll(async () => {
  await server?.dispose();
});

async function startAsAlice(request: { command: string; args: string[] }): Promise<string> {
  const { job } = await (await server.process.client("alice")).startJob(request);
  return job!.id;
}

describe("python grpcio", () => {
  it("has a passing case for every RPC of the service in proto/", async () => {
    const run = await runPython<{ methods: string[]; results: Record<string, string>; missing: string[] }>(
      server.python(),
      "every-rpc",
    );
    expect(run.methods.length).toBeGreaterThanOrEqual(8);
    expect(run.missing, "RPCs without a case in interop/python/rpc_cases.py").toEqual([]);
    expect(run.results).toEqual(Object.fromEntries(run.methods.map((m) => [m, "ok"])));
  });

  it("gets the status codes and error codes of the authorization and validation matrix", async () => {
    const observed = await runPython<Record<string, { code: string; errorCode: string | null }>>(
      server.python(),
      "statuses",
    );
    const status = (code: string, errorCode: string | null = `JW_ERR_${code}`) => ({ code, errorCode });
    const noRole = Object.fromEntries(
      Object.keys(observed)
        .filter((probe) => probe.startsWith("nobody "))
        .map((probe) => [probe, status("PERMISSION_DENIED", "JW_ERR_NO_ROLE")]),
    );
    expect(Object.keys(noRole).length).toBeGreaterThanOrEqual(8);
    expect(observed).toEqual({
      "bob GetJob of alice's job": status("NOT_FOUND"),
      "bob StopJob of alice's job": status("NOT_FOUND"),
      "bob WaitJob of alice's job": status("NOT_FOUND"),
      "bob StreamOutput of alice's job": status("NOT_FOUND"),
      "bob DeleteJob of alice's job": status("NOT_FOUND"),
      "bob ListJobs of alice": status("PERMISSION_DENIED", "JW_ERR_ADMIN_ONLY"),
      "bob CleanJobs of all owners": status("PERMISSION_DENIED", "JW_ERR_ADMIN_ONLY"),
      "admin GetJob of alice's job": status("OK", null),
      "admin ListJobs of alice": status("OK", null),
      "alice GetJob of an unknown id": status("NOT_FOUND"),
      "alice GetJob of a malformed id": status("INVALID_ARGUMENT", "JW_ERR_MALFORMED_JOB_ID"),
      "alice StopJob of an ended job": status("FAILED_PRECONDITION"),
      "alice DeleteJob of a running job": status("FAILED_PRECONDITION"),
      "alice ListJobs of 5000 a page": status("INVALID_ARGUMENT"),
      "alice StartJob of a missing executable": status("INVALID_ARGUMENT"),
      "alice StartJob of 1 byte of memory": status("INVALID_ARGUMENT"),
      // Refused by the protocol layer before any handler: no error code (docs/api.md).
      "alice StartJob over the request size cap": status("RESOURCE_EXHAUSTED", null),
      "alice an unknown method": status("UNIMPLEMENTED", null),
      ...noRole,
    });
  });

  it("streams 50 MiB of binary output byte-exact, offsets contiguous", async () => {
    const bytes = 50 * MIB;
    const id = await startAsAlice(patternJob(bytes));
    const run = await runPython<{ bytes: number; sha256: string; expectedSha256: string; contiguous: boolean }>(
      server.python(),
      "stream-bytes",
      { id, expectedBytes: bytes },
    );
    expect(run.bytes).toBe(bytes);
    expect(run.contiguous).toBe(true);
    expect(run.sha256).toBe(run.expectedSha256);
  });

  it("200 followers whose deadline expires while the job runs all end DEADLINE_EXCEEDED, none OK", async () => {
    const id = await startAsAlice(TICKING);
    const run = await runPython<{ codes: Record<string, number>; stateAfter: string; unexpected: string[] }>(
      server.python(),
      "followers",
      {
        id,
        count: 200,
        perConnection: 100, // the server's default --max-streams-per-connection
        minSeconds: 0.2,
        maxSeconds: 0.3,
      },
    );
    expect(run.stateAfter).toBe("JOB_STATE_RUNNING");
    expect(run.unexpected).toEqual([]);
    expect(run.codes).toEqual({ DEADLINE_EXCEEDED: 200 });
    await until(10_000, "open streams back to 0", async () => (await server.openStreams()) === 0);
  });

  it("a unary WaitJob whose deadline expires ends DEADLINE_EXCEEDED", async () => {
    const id = await startAsAlice(TICKING);
    const run = await runPython<{ code: string }>(server.python(), "unary-deadline", { id, seconds: 0.3 });
    expect(run.code).toBe("DEADLINE_EXCEEDED");
  });

  it("cancelled followers end CANCELLED and the open-streams gauge returns to 0", async () => {
    const id = await startAsAlice(TICKING);
    const scenario = new PythonScenario<{ codes: Record<string, number> }>(server.python(), "cancel", {
      id,
      count: 20,
    });
    try {
      await scenario.event("following");
      expect(await server.openStreams()).toBe(20);
      scenario.proceed();
      expect((await scenario.result).codes).toEqual({ CANCELLED: 20 });
      await until(10_000, "open streams back to 0", async () => (await server.openStreams()) === 0);
    } finally {
      scenario.kill();
    }
  });

  it("a follower whose client pings every 200 ms through 3 quiet seconds gets the job's whole output, OK", async () => {
    const id = await startAsAlice({ command: "/bin/sh", args: ["-c", "echo start; sleep 3; echo done"] });
    const run = await runPython<{ code: string; output?: string }>(server.python(), "keepalive", { id, pingMs: 200 });
    expect(run).toEqual({ code: "OK", output: "start\ndone\n" });
  });

  it("gets answers to gzip-compressed requests on every kind of call; the cap counts inflated bytes", async () => {
    const run = await runPython<Record<string, unknown>>(server.python(), "gzip", { gzip: true });
    expect(run).toEqual({
      exitCode: 0,
      output: "gzip-ok",
      bigArgs: 9,
      overCapInflated: { code: "RESOURCE_EXHAUSTED", errorCode: null },
    });
  });
});
