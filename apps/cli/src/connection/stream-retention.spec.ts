import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { JobService } from "@jobworker/proto";
import { describe, expect, it } from "vitest";

// The test needs to force a full collection; the flag must be set before the first runInNewContext asks for gc.
setFlagsFromString("--expose-gc");
const collectGarbage: () => void = runInNewContext("gc");

/**
 * Pins patches/@connectrpc__connect@2.3.0.patch (run-call.js): Connect raced
 * each read of a response stream against one promise that lives as long as the
 * call, and every race left a reaction on it holding that read's message, so
 * `runjob logs` of 1 GiB held 1 GiB until the stream ended.
 */
/** Messages of 1 MiB: before the fix, every one stayed in memory until the call ended. */
const MESSAGES = 16;

describe("a server stream read through Connect", () => {
  it("lets go of each message once the reader has moved past it", async () => {
    let release = () => {};
    const producerDone = new Promise<void>((resolve) => {
      release = resolve;
    });
    const transport = createRouterTransport(({ service }) => {
      service(JobService, {
        async *streamOutput() {
          for (let i = 0; i < MESSAGES; i++) yield { offset: BigInt(i * 2 ** 20), data: new Uint8Array(2 ** 20) };
          // The call stays open, as a followed job's stream does, until the reader has looked.
          await producerDone;
        },
      });
    });
    const client = createClient(JobService, transport);
    const stream = client.streamOutput({ id: "x", follow: true })[Symbol.asyncIterator]();
    const read: WeakRef<Uint8Array>[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const { value } = await stream.next();
      read.push(new WeakRef(value?.data ?? new Uint8Array(0)));
    }
    collectGarbage();
    // WeakRef targets stay alive until the current job ends: look after one more turn.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    // The last message may still sit in a local of the iterator; every one before it must be gone.
    const retained = read.slice(1, -1).filter((message) => message.deref() !== undefined).length;
    release();
    while (!(await stream.next()).done) {}
    expect(retained).toBe(0);
  });
});
