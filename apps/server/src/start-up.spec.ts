import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { join } from "node:path";
import { testUidRange } from "@jobworker/testkit/uid-range";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestPki, type TestPki } from "./testing/test-server.js";

const SERVER_BIN = new URL("../bin/jobworker-server.js", import.meta.url).pathname;

/** Runs jobworker-server with `args` until it exits or `timeoutMs` passes (then it is killed). */
async function runServer(args: string[], timeoutMs: number) {
  const started = performance.now();
  const child = spawn(process.execPath, [SERVER_BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (data: Buffer) => {
    output += data.toString();
  });
  child.stderr.on("data", (data: Buffer) => {
    output += data.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [code, signal] = await once(child, "exit");
  clearTimeout(timer);
  return { code, signal, output, ms: performance.now() - started };
}

describe("a server that cannot start exits, naming the setting at fault", () => {
  let pki: TestPki;
  let stateDir: string;

  beforeAll(async () => {
    pki = await createTestPki();
    stateDir = await mkdtemp("/var/tmp/jobworker-test-state-");
  });

  afterAll(async () => {
    await rm(pki.dir, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  });

  it.each([
    ["--tls-cert", "tls-cert"],
    ["--tls-key", "tls-key"],
    ["--client-ca", "client-ca"],
  ])("a missing %s file: exit 1 at once with metrics on, and the message names the flag", async (flag, name) => {
    const files: Record<string, string> = {
      "tls-cert": join(pki.dir, "server.crt"),
      "tls-key": join(pki.dir, "server.key"),
      "client-ca": join(pki.dir, "ca.crt"),
      [name]: join(pki.dir, "missing.pem"),
    };
    const result = await runServer(
      [
        ...["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--state-dir", stateDir],
        ...Object.entries(files).flatMap(([setting, path]) => [`--${setting}`, path]),
      ],
      10_000,
    );
    expect(result.signal).toBeNull();
    expect(result.code).toBe(1);
    expect(result.output).toContain(`${flag}: cannot read ${join(pki.dir, "missing.pem")}`);
    // Node's own start-up is most of this; the server gives up as soon as it reads the file.
    expect(result.ms).toBeLessThan(5_000);
  });

  it("a port another process holds: exit 1, naming --metrics-listen", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const { port } = holder.address() as AddressInfo;
    try {
      const result = await runServer(
        [
          ...["--listen", "127.0.0.1:0", "--metrics-listen", `127.0.0.1:${port}`, "--state-dir", stateDir],
          ...["--tls-cert", join(pki.dir, "server.crt"), "--tls-key", join(pki.dir, "server.key")],
          ...["--client-ca", join(pki.dir, "ca.crt"), "--cgroup-parent", `jobworker-test-start-${process.pid}`],
          ...["--job-uid-first", String(testUidRange().first), "--job-uid-count", "16"],
        ],
        10_000,
      );
      expect(result.code).toBe(1);
      expect(result.output).toContain(`--metrics-listen 127.0.0.1:${port}: cannot listen (EADDRINUSE)`);
    } finally {
      holder.close();
    }
  });
});
