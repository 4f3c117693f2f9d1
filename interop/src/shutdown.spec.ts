// A server shut down (SIGTERM) under a Python grpcio follower: the stream ends UNAVAILABLE,
// never OK, and after a restart the follower resumes from the offset it reached.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InteropServer, startInteropServer } from "./interop-server.js";
import { PythonScenario, runPython } from "./python-client.js";

let server: InteropServer;
beforeAll(async () => {
  server = await startInteropServer();
});
afterAll(async () => {
  await server?.dispose();
});

describe("server shutdown mid-stream", () => {
  it("ends a grpcio follower UNAVAILABLE; after the restart it resumes at the offset it reached", async () => {
    const client = await server.process.client("alice");
    const { job } = await client.startJob({
      command: "/bin/sh",
      args: ["-c", "while :; do echo tick; sleep 0.05; done"],
    });
    const follower = new PythonScenario<{ code: string; errorCode: string | null; nextOffset: number }>(
      server.python(),
      "follow-through-shutdown",
      { id: job!.id },
    );
    try {
      await follower.event("following");
      expect(await server.process.kill("SIGTERM")).toBe(0);
      const end = await follower.result;
      expect(end).toMatchObject({ code: "UNAVAILABLE", errorCode: "JW_ERR_UNAVAILABLE" });
      expect(end.nextOffset).toBeGreaterThan(0);

      await server.process.restart();
      const resumed = await runPython<{ firstOffset: number | null; bytes: number }>(server.python(), "resume", {
        id: job!.id,
        fromOffset: end.nextOffset,
      });
      expect(resumed.firstOffset).toBe(end.nextOffset);
      expect(resumed.bytes).toBeGreaterThan(0);
    } finally {
      follower.kill();
    }
  });
});
