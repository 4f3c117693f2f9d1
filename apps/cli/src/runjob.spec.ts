import { createHash, randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { JOB_ID_PATTERN } from "@jobworker/proto";
import { ServerProcess } from "@jobworker/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, runjob, runjobPath, runShell, spawnRunjob } from "./testing/cli-harness.js";

const needsRoot = process.getuid?.() !== 0;

describe.skipIf(needsRoot)("runjob against a real jobworker-server (needs root: the server runs isolated jobs)", () => {
  let server: ServerProcess;
  /** A host directory the server exposes to jobs (read-only), for test data. */
  let dataDir: string;
  const cli = (...args: string[]) => runjob(server, args);
  const text = (result: CliResult) => result.stdout.toString();

  beforeAll(async () => {
    dataDir = await mkdtemp("/var/tmp/jobworker-test-data-");
    await chmod(dataDir, 0o755);
    server = await ServerProcess.start({ args: ["--expose", `${dataDir}:ro`] });
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
    try {
      await runjob(server, ["clean", "--all-owners"], { identity: "admin" });
      // SIGTERM: a graceful shutdown exits 0.
      expect(await server.kill("SIGTERM")).toBe(0);
    } finally {
      await server.dispose();
    }
  });

  it("start prints only the job id when stdout is not a terminal; status and logs read it back", async () => {
    const started = await cli("start", "--", "/bin/echo", "hello");
    expect(started.code).toBe(0);
    const id = text(started).trim();
    expect(id).toMatch(JOB_ID_PATTERN);
    expect((await cli("wait", id)).code).toBe(0);
    const status = await cli("status", id);
    expect(text(status)).toMatch(/State:\s+ended/);
    expect(text(status)).toMatch(/Result:\s+exit 0/);
    expect(text(status)).toMatch(/Memory limit:\s+512 MiB/);
    expect(text(await cli("logs", id))).toBe("hello\n");
  });

  it.each([
    ["exits 0", ["/bin/true"], 0],
    ["exits 3", ["/bin/sh", "-c", "exit 3"], 3],
    ["is killed by SIGKILL", ["/bin/sh", "-c", "kill -KILL $$"], 137],
  ])("start --follow and wait exit with the job's code when it %s", async (_what, command, code) => {
    const followed = await cli("start", "--follow", "--", ...command);
    expect(followed.code).toBe(code);
    const id = /^job (\S+)$/m.exec(followed.stderr)?.[1] ?? "";
    expect(id).toMatch(JOB_ID_PATTERN);
    expect((await cli("wait", id)).code).toBe(code);
  });

  it("start --follow gives 124 for a timed-out job and streams only the job's bytes to stdout", async () => {
    const result = await cli(
      "start",
      "--follow",
      "--max-runtime",
      "300ms",
      "--",
      "/bin/sh",
      "-c",
      "echo tick; exec sleep 1000",
    );
    expect(result.code).toBe(124);
    expect(text(result)).toBe("tick\n");
    expect(result.stderr).toMatch(/^job [0-9a-f-]{36}\n/);
  });

  it("--json prints the Job in protobuf JSON form; list prints an array", async () => {
    const started = JSON.parse(
      text(await cli("start", "--json", "--cpu", "0.5", "--memory", "64MiB", "--", "/bin/sh", "-c", "exit 5")),
    );
    expect(started).toMatchObject({
      owner: "alice",
      state: "JOB_STATE_RUNNING",
      limits: { cpuMillicores: 500, memoryBytes: String(64 * 2 ** 20) },
    });
    expect(started).toHaveProperty("oomKilled", false);
    expect(started).toHaveProperty("endReason", "END_REASON_UNSPECIFIED");
    const waited = await cli("wait", "--json", started.id);
    expect(waited.code).toBe(5);
    expect(JSON.parse(text(waited))).toMatchObject({
      id: started.id,
      state: "JOB_STATE_ENDED",
      endReason: "END_REASON_EXITED",
      exitCode: 5,
    });
    expect(JSON.parse(text(await cli("status", "--json", started.id)))).toMatchObject({ exitCode: 5 });
    const list = JSON.parse(text(await cli("list", "--json")));
    expect(Array.isArray(list)).toBe(true);
    expect(list.map((job: { id: string }) => job.id)).toContain(started.id);
  });

  it("stop ends a running job; --json shows how", async () => {
    const id = text(await cli("start", "--", "sleep", "1000")).trim();
    const stopped = await cli("stop", "--json", "--grace", "1s", id);
    expect(stopped.code).toBe(0);
    expect(JSON.parse(text(stopped))).toMatchObject({
      state: "JOB_STATE_ENDED",
      endReason: "END_REASON_STOPPED",
      signal: 15,
    });
  });

  it("logs writes binary output byte for byte", async () => {
    const data = randomBytes(3 * 2 ** 20);
    await writeFile(join(dataDir, "data.bin"), data, { mode: 0o644 });
    const id = text(await cli("start", "--", "/bin/cat", join(dataDir, "data.bin"))).trim();
    await cli("wait", id);
    const logs = await cli("logs", id);
    expect(createHash("sha256").update(logs.stdout).digest("hex")).toBe(
      createHash("sha256").update(data).digest("hex"),
    );
    const tail = await cli("logs", "--from-offset", String(2 ** 20), id);
    expect(tail.stdout.equals(data.subarray(2 ** 20))).toBe(true);
  });

  it("logs stays quiet when its reader goes away (EPIPE), as in `runjob logs id | head`", async () => {
    const id = text(await cli("start", "--", "/usr/bin/seq", "1", "200000")).trim();
    await cli("wait", id);
    const piped = await runShell(server, `node ${runjobPath} logs ${id} | head -c 10`);
    expect(piped.stdout.toString()).toBe("1\n2\n3\n4\n5\n");
    expect(piped.stderr).toBe("");
    expect(piped.code).toBe(0);
  });

  it("Ctrl-C detaches start --follow: the job keeps running and stderr says how to follow or stop it", async () => {
    const child = spawnRunjob(server, ["start", "--follow", "--", "/bin/sleep", "1000"]);
    let stderr = "";
    const id = await new Promise<string>((resolve) => {
      child.stderr.on("data", (data: Buffer) => {
        stderr += data.toString();
        const match = /^job (\S+)$/m.exec(stderr);
        if (match?.[1]) resolve(match[1]);
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(stderr).toContain(`detached; job ${id} keeps running.`);
    expect(stderr).toContain(`runjob stop ${id}`);
    expect(text(await cli("status", "--json", id))).toContain('"state": "JOB_STATE_RUNNING"');
    await cli("stop", "--grace", "0s", id);
  });

  it("accepts a unique id prefix of at least 6 characters and refuses shorter ones", async () => {
    const id = text(await cli("start", "--", "/bin/echo", "prefix")).trim();
    await cli("wait", id);
    expect(text(await cli("logs", id.slice(0, 8)))).toBe("prefix\n");
    const short = await cli("status", id.slice(0, 5));
    expect(short.code).toBe(125);
    expect(short.stderr).toMatch(/at least 6/);
  });

  it("keeps the original tool's command names as aliases", async () => {
    const id = text(await cli("start", "--", "/bin/echo", "alias")).trim();
    expect(text(await cli("stream-output", id))).toBe("alias\n");
    expect(text(await cli("list-jobs"))).toContain(id.slice(0, 12)); // tables show 12-character short ids
    const cleaned = await runjob(server, ["clean-all-jobs"], { identity: "bob" });
    expect(text(cleaned)).toBe("deleted 0 jobs\n");
  });

  it("a user cannot see another user's job; an admin can", async () => {
    const id = text(await cli("start", "--", "/bin/true")).trim();
    const asBob = await runjob(server, ["status", id], { identity: "bob" });
    expect(asBob.code).toBe(125);
    expect(asBob.stderr).toMatch(/not found/);
    expect((await runjob(server, ["status", id], { identity: "admin" })).code).toBe(0);
  });

  it("says in one line what went wrong and exits 125", async () => {
    const unreachable = await runjob(server, ["list"], { env: { RUNJOB_SERVER: "127.0.0.1:1" } });
    expect(unreachable).toMatchObject({ code: 125 });
    expect(unreachable.stderr).toMatch(/^runjob: cannot reach the server at 127.0.0.1:1.*\n$/);
    const badLimit = await cli("start", "--memory", "lots", "--", "/bin/true");
    expect(badLimit.code).toBe(125);
    expect(badLimit.stderr).toMatch(/--memory "lots" is not a size: use bytes or a unit, as in 512MiB/);
    const missing = await cli("start", "--", "/usr/bin/no-such-binary");
    expect(missing.code).toBe(125);
    expect(missing.stderr).toMatch(/cannot execute \/usr\/bin\/no-such-binary: no such file/);
    const hidden = await cli("start", "--workdir", "/root", "--", "/bin/true");
    expect(hidden.code).toBe(125);
    expect(hidden.stderr).toMatch(/working directory \/root is outside the job's view/);
    const stranger = await runjob(server, ["list"], { env: { RUNJOB_CA: "/etc/ssl/certs/ca-certificates.crt" } });
    expect(stranger.code).toBe(125);
    // Caught before connecting: the client's own certificate is not from the CA it was given (tls-errors.spec.ts has the rest).
    expect(stranger.stderr).toMatch(
      /was not issued by the CA in \/etc\/ssl\/certs\/ca-certificates.crt, so the server will refuse it: .* \[JW_ERR_TLS\]\n$/,
    );
  });

  it("every command with --json prints its error as JSON on stdout, exiting as it does without --json", async () => {
    const ended = text(await cli("start", "--", "/bin/true")).trim();
    await cli("wait", ended);
    const running = text(await cli("start", "--", "/bin/sleep", "1000")).trim();
    const missing = "00000000-0000-4000-8000-000000000000";
    const home = await mkdtemp("/var/tmp/jobworker-test-home-");
    await mkdir(join(home, "runjob"));
    await writeFile(join(home, "runjob", "config.json"), "{ not json");
    const cases: [string[], string, NodeJS.ProcessEnv?][] = [
      [["status", missing], "JW_ERR_NOT_FOUND"],
      [["wait", missing], "JW_ERR_NOT_FOUND"],
      [["stop", ended], "JW_ERR_FAILED_PRECONDITION"],
      [["delete", running], "JW_ERR_FAILED_PRECONDITION"],
      [["list", "--owner", "bob"], "JW_ERR_ADMIN_ONLY"],
      [["clean", "--all-owners"], "JW_ERR_ADMIN_ONLY"],
      [["start", "--", "/no/such/binary"], "JW_ERR_INVALID_ARGUMENT"],
      [["start", "--memory", "lots", "--", "/bin/true"], "JW_ERR_USAGE"],
      [["status"], "JW_ERR_USAGE"],
      [["list"], "JW_ERR_UNREACHABLE", { RUNJOB_SERVER: "127.0.0.1:1" }],
      [["config"], "JW_ERR_CLI_CONFIG", { XDG_CONFIG_HOME: home }],
    ];
    try {
      for (const [[command = "", ...rest], code, env] of cases) {
        const plain = await runjob(server, [command, ...rest], { env });
        const json = await runjob(server, [command, "--json", ...rest], { env });
        const what = `${command} ${rest.join(" ")}`;
        expect([plain.code, json.code], what).toEqual([125, 125]);
        expect(plain.stderr, what).toMatch(new RegExp(`^runjob: .* \\[${code}\\]\n$`));
        expect(JSON.parse(text(json)), what).toEqual({ error: { code, message: expect.any(String) } });
        expect(json.stderr, what).toBe("");
      }
    } finally {
      await cli("stop", "--grace", "0s", running);
      await rm(home, { recursive: true, force: true });
    }
  });

  it("connection settings: flags, then RUNJOB_* env, then config.json, then defaults; 'config' shows the sources", async () => {
    const home = await mkdtemp("/var/tmp/jobworker-test-home-");
    await mkdir(join(home, "runjob"), { recursive: true });
    await writeFile(join(home, "runjob", "config.json"), JSON.stringify({ server: "from-file:1", cert: "file.crt" }));
    try {
      const env = {
        XDG_CONFIG_HOME: home,
        RUNJOB_SERVER: "from-env:2",
        RUNJOB_CERT: "",
        RUNJOB_KEY: "",
        RUNJOB_CA: "",
      };
      const shown = JSON.parse(text(await runjob(server, ["config", "--json", "--ca", "flag.crt"], { env })));
      expect(shown.settings).toEqual({
        server: { value: "from-env:2", source: "env" },
        cert: { value: "file.crt", source: "config file" },
        key: { value: "certs/alice.key", source: "default" },
        ca: { value: "flag.crt", source: "flag" },
      });
      expect(shown.configFile).toBe(join(home, "runjob", "config.json"));
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it("every command has --help with examples, and --version answers", async () => {
    for (const command of ["start", "stop", "status", "wait", "list", "logs", "delete", "clean", "config"]) {
      const help = text(await cli(command, "--help"));
      expect(help, command).toMatch(/EXAMPLES/);
    }
    expect(text(await cli("--version"))).toMatch(/^@jobworker\/cli\/0\.1\.0 /);
    const cache = await mkdtemp("/var/tmp/jobworker-test-cache-");
    try {
      const completion = await runjob(server, ["autocomplete", "bash"], { env: { XDG_CACHE_HOME: cache } });
      expect(text(completion)).toMatch(/runjob autocomplete script bash/);
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
  });
});
