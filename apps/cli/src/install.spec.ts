import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ServerProcess } from "@jobworker/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UiProcess } from "./testing/ui-process.js";

const run = promisify(execFile);
const needsRoot = process.getuid?.() !== 0;
const CLI_DIR = fileURLToPath(new URL("../", import.meta.url));

/** Runs an installed runjob with nothing of the repository around it: its own HOME, a bare PATH, another cwd. */
async function installed(
  runjob: string,
  args: string[],
  env: { HOME: string; PATH: string },
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(runjob, args, { env, cwd: env.HOME });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== "number") throw error;
    return { code: failed.code, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

describe.skipIf(needsRoot)("runjob installed outside the repository (needs root: a real server)", () => {
  let server: ServerProcess;
  let root: string;

  beforeAll(async () => {
    server = await ServerProcess.start();
    root = await mkdtemp("/var/tmp/jobworker-test-install-");
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
    try {
      expect(await server.kill("SIGTERM")).toBe(0);
    } finally {
      await server.dispose();
    }
  });

  /** What a user does after installing: one context from the certificates they were given, then a job. */
  async function firstSteps(runjob: string, env: { HOME: string; PATH: string }): Promise<void> {
    await mkdir(env.HOME, { recursive: true });
    const version = await installed(runjob, ["--version"], env);
    expect(version.stdout).toMatch(/^@jobworker\/cli\/0\.1\.0 linux-x64 node-v22\.\d+\.\d+\n$/);
    const added = await installed(
      runjob,
      [
        "context",
        "add",
        "local",
        "--server",
        `localhost:${server.port}`,
        "--cert",
        join(server.certs, "alice.crt"),
        "--key",
        join(server.certs, "alice.key"),
        "--ca",
        join(server.certs, "ca.crt"),
      ],
      env,
    );
    expect([added.code, added.stdout, added.stderr]).toEqual([0, "context local added (current)\n", ""]);
    const followed = await installed(runjob, ["start", "--follow", "--", "/bin/echo", "hello from", runjob], env);
    expect([followed.code, followed.stdout]).toEqual([0, `hello from ${runjob}\n`]);
    // runjob ui serves the page embedded in it, and forwards the page's calls to the server.
    const ui = await UiProcess.start(undefined, { installed: { runjob, env, cwd: env.HOME } });
    try {
      const page = await fetch(ui.url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<script type="module" src="/app.js">');
      const script = await fetch(`http://127.0.0.1:${ui.port}/app.js`, { headers: { "x-runjob-ui-token": ui.token } });
      expect(script.status).toBe(200);
      expect((await script.text()).length).toBeGreaterThan(100_000);
      // An empty ListJobsRequest as one gRPC-Web message: forwarded over mutual TLS as the context's alice.
      const listed = await fetch(`http://127.0.0.1:${ui.port}/jobworker.v1.JobService/ListJobs`, {
        method: "POST",
        headers: { "x-runjob-ui-token": ui.token, "content-type": "application/grpc-web+proto" },
        body: new Uint8Array([0, 0, 0, 0, 0]),
      });
      const answer = Buffer.from(await listed.arrayBuffer()).toString();
      expect(answer).toContain("alice");
      expect(answer).toMatch(/grpc-status: ?0\r\n/);
    } finally {
      await ui.stop();
    }
    const typo = await installed(runjob, ["lsit"], env);
    expect([typo.code, typo.stderr]).toEqual([
      125,
      "runjob: unknown command 'lsit' (did you mean 'runjob list'?); 'runjob help' lists the commands [JW_ERR_USAGE]\n",
    ]);
  }

  it("the single executable (pnpm package:cli) runs with no Node and no repository around it", async () => {
    const bin = join(root, "sea/bin");
    await mkdir(bin, { recursive: true });
    const built = join(root, "sea/build/runjob-linux-x64");
    await run(process.execPath, [join(CLI_DIR, "sea/build.mjs"), built], { maxBuffer: 16 * 2 ** 20 });
    await copyFile(built, join(bin, "runjob"));
    // PATH holds the executable's directory only: no node to fall back on.
    await firstSteps(join(bin, "runjob"), { HOME: join(root, "sea/home"), PATH: bin });
  }, 300_000);

  it("npm install -g of the packed @jobworker/cli installs offline, with nothing but the tarball", async () => {
    const { stdout } = await run(process.execPath, [join(CLI_DIR, "pack.mjs"), root], {
      env: { ...process.env, PATH: `${dirname(process.execPath)}:/usr/bin:/bin` },
    });
    const tarball = stdout.trim();
    const prefix = join(root, "npm-global");
    await run(
      "npm",
      [
        "install",
        "--global",
        "--offline",
        "--no-audit",
        "--no-fund",
        "--no-update-notifier",
        "--prefix",
        prefix,
        tarball,
      ],
      { env: { PATH: "/usr/bin:/bin", HOME: root, npm_config_cache: join(root, ".npm-cache") } },
    );
    const manifest = JSON.parse(await readFile(join(prefix, "lib/node_modules/@jobworker/cli/package.json"), "utf8"));
    expect(manifest.dependencies).toBeUndefined();
    // The package needs a Node 22 on PATH (the system's may be older): the project's.
    await firstSteps(join(prefix, "bin/runjob"), {
      HOME: join(root, "npm-home"),
      PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
    });
  }, 300_000);
});
