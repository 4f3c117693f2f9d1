import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { metricValue, ServerProcess } from "@jobworker/testkit";
import { buildDescriptorSet } from "./descriptor-set.js";
import { writeInteropPki } from "./interop-pki.js";
import type { PythonEnv } from "./python-client.js";

/** A real server process on the interop PKI, and the descriptor set its foreign clients use. */
export interface InteropServer {
  process: ServerProcess;
  descriptorSet: string;
  /** What the Python client needs to reach the server. */
  python(): PythonEnv;
  /** The jobworker_open_streams gauge. */
  openStreams(): Promise<number>;
  dispose(): Promise<void>;
}

export async function startInteropServer(args: string[] = []): Promise<InteropServer> {
  const scratch = await mkdtemp("/var/tmp/jobworker-test-interop-");
  const descriptorSet = buildDescriptorSet(join(scratch, "jobworker.binpb"));
  const process = await ServerProcess.start({ args, writePki: writeInteropPki });
  return {
    process,
    descriptorSet,
    python: () => ({ target: `localhost:${process.port}`, certs: process.certs, descriptorSet }),
    openStreams: async () => metricValue(await process.metrics(), "jobworker_open_streams"),
    async dispose() {
      await process.dispose();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

/** Polls `probe` until it returns true, at most `ms`: for states the server exposes only as a metric. */
export async function until(ms: number, what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
