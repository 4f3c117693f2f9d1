import { EventEmitter, once } from "node:events";
import { EndReason } from "@jobworker/proto";
import { installTestCa, makeTestCa, ServerProcess, type TestCa } from "@jobworker/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnRunjob } from "./testing/cli-harness.js";

const needsRoot = process.getuid?.() !== 0;
const WAIT_MS = 20_000;

/** Resolves when `emitter` emits `event` with a value `match` accepts; rejects after WAIT_MS. */
function when<T>(emitter: EventEmitter, event: string, match: (value: T) => boolean): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`no ${event} came that the test waited for`));
    }, WAIT_MS);
    const listener = (value: T) => {
      if (!match(value)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(value);
    };
    emitter.on(event, listener);
  });
}

describe.skipIf(needsRoot)(
  "runjob logs -f while the server's certificates rotate (needs root: real server and jobs)",
  () => {
    const log = new EventEmitter();
    let first: TestCa;
    let second: TestCa;
    let server: ServerProcess;

    beforeAll(async () => {
      first = await makeTestCa("logs -f CA one", ["alice"]);
      second = await makeTestCa("logs -f CA two", ["alice"]);
      server = await ServerProcess.start({
        writePki: (dir) => installTestCa(dir, first),
        args: (certs) => ["--client-crl", `${certs}/crl.pem`],
        onLog: (entry) => log.emit("entry", entry),
      });
    });

    afterAll(async () => {
      await server?.dispose();
    });

    it("keeps streaming through a SIGHUP that swaps the server certificate and the client CA, and ends with the job", async () => {
      // alice's own connection, opened before the rotation, stops the job at the end.
      const alice = await server.client("alice");
      const script = "i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.05; done";
      const id = (await alice.startJob({ command: "/bin/sh", args: ["-c", script] })).job?.id ?? "";
      const follower = spawnRunjob(server, ["logs", "-f", id]);
      const ticks = new EventEmitter();
      let stdout = "";
      let stderr = "";
      follower.stdout.on("data", (data: Buffer) => {
        stdout += data.toString();
        const last = /tick (\d+)\n$/.exec(stdout)?.[1];
        if (last !== undefined) ticks.emit("tick", Number(last));
      });
      follower.stderr.on("data", (data: Buffer) => {
        stderr += data.toString();
      });
      const exited = once(follower, "exit");
      const before = await when<number>(ticks, "tick", (tick) => tick >= 3);

      const loaded = when<Record<string, unknown>>(
        log,
        "entry",
        (entry) => entry.serial === second.server.serial?.toUpperCase(),
      );
      await installTestCa(server.certs, second);
      server.child.kill("SIGHUP");
      expect(await loaded).toMatchObject({ clientCa: ["CN=logs -f CA two"] });
      // The follower, connected under the old CA, goes on receiving.
      await when<number>(ticks, "tick", (tick) => tick >= before + 10);
      // A new runjob (the new CA's alice, now in the certs dir) is served too.
      const newcomer = spawnRunjob(server, ["status", id]);
      const [newcomerCode] = await once(newcomer, "exit");
      expect(newcomerCode).toBe(0);

      expect((await alice.stopJob({ id })).job?.endReason).toBe(EndReason.STOPPED);
      const [code] = await exited;
      expect(stderr).toBe("");
      expect(code).toBe(0);
      const lines = stdout.trimEnd().split("\n");
      // Every line arrived, in order, none twice: the stream was never cut and resumed.
      expect(lines).toEqual(lines.map((_, i) => `tick ${i}`));
    });
  },
);
