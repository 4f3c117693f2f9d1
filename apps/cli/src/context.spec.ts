import { mkdtemp, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { ServerProcess } from "@jobworker/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runjob } from "./testing/cli-harness.js";

const needsRoot = process.getuid?.() !== 0;

describe.skipIf(needsRoot)("contexts: named servers with their credentials (needs root: the server runs jobs)", () => {
  let server: ServerProcess;
  let configDir: string;
  /** A directory with no certs/ in it: contexts must work from anywhere. */
  let elsewhere: string;

  // Only the config dir: no RUNJOB_SERVER, RUNJOB_CERT, RUNJOB_KEY or RUNJOB_CA, so every setting comes from a context.
  const cli = (args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
    runjob(server, args, {
      cwd: options.cwd ?? elsewhere,
      env: {
        RUNJOB_CONFIG_DIR: configDir,
        RUNJOB_SERVER: undefined,
        RUNJOB_CERT: undefined,
        RUNJOB_KEY: undefined,
        RUNJOB_CA: undefined,
        ...options.env,
      },
    });
  const addContext = (name: string, identity: string, extra: string[] = [], serverAddress?: string) =>
    cli(
      [
        "context",
        "add",
        name,
        "--server",
        serverAddress ?? `localhost:${server.port}`,
        "--cert",
        `${identity}.crt`,
        "--key",
        `${identity}.key`,
        "--ca",
        "ca.crt",
        ...extra,
      ],
      // Relative paths, from the certs directory: the context must store them absolute.
      { cwd: server.certs },
    );

  beforeAll(async () => {
    server = await ServerProcess.start();
    configDir = await mkdtemp("/var/tmp/jobworker-test-cli-config-");
    elsewhere = await mkdtemp("/var/tmp/jobworker-test-cli-cwd-");
  });

  afterAll(async () => {
    await rm(configDir, { recursive: true, force: true });
    await rm(elsewhere, { recursive: true, force: true });
    try {
      await runjob(server, ["clean", "--all-owners"], { identity: "admin" });
      expect(await server.kill("SIGTERM")).toBe(0);
    } finally {
      await server.dispose();
    }
  });

  it("context add stores absolute paths; then runjob works from any directory through the current context", async () => {
    const added = await addContext("local", "alice");
    expect([added.code, added.stdout.toString(), added.stderr]).toEqual([0, "context local added (current)\n", ""]);
    const saved = JSON.parse(await readFile(join(configDir, "config.json"), "utf8"));
    expect(saved).toEqual({
      currentContext: "local",
      contexts: {
        local: {
          server: `localhost:${server.port}`,
          cert: join(server.certs, "alice.crt"),
          key: join(server.certs, "alice.key"),
          ca: join(server.certs, "ca.crt"),
        },
      },
    });
    const followed = await cli(["start", "--follow", "--", "/bin/echo", "from anywhere"], { cwd: "/" });
    expect([followed.code, followed.stdout.toString()]).toEqual([0, "from anywhere\n"]);
  });

  it("context add checks the files before saving anything", async () => {
    const mismatched = await cli(
      [
        "context",
        "add",
        "broken",
        "--server",
        "localhost:1",
        "--cert",
        "alice.crt",
        "--key",
        "bob.key",
        "--ca",
        "ca.crt",
      ],
      { cwd: server.certs },
    );
    expect([mismatched.code, mismatched.stderr]).toEqual([
      125,
      `runjob: the key ${join(server.certs, "bob.key")} does not belong to the client certificate ${join(server.certs, "alice.crt")}: pass the key made with that certificate (--key) [JW_ERR_CREDENTIALS]\n`,
    ]);
    const listed = await cli(["context", "ls", "--json"]);
    expect(JSON.parse(listed.stdout.toString()).map((context: { name: string }) => context.name)).toEqual(["local"]);
  });

  it("-c and RUNJOB_CONTEXT pick a context for one call; context use changes the current one", async () => {
    const added = await addContext("bob", "bob");
    expect(added.stdout.toString()).toBe("context bob added (use it with 'runjob context use bob' or -c bob)\n");
    const started = await cli(["start", "-c", "bob", "--", "/bin/true"]);
    expect(started.code).toBe(0);
    const id = started.stdout.toString().trim();
    const owner = async (env: NodeJS.ProcessEnv, args: string[] = []) => {
      const status = await cli(["status", ...args, id, "--json"], { env });
      // Under --json a failure is JSON on stdout too: the owner, or the error's code.
      const answer = JSON.parse(status.stdout.toString());
      return answer.owner ?? answer.error?.code;
    };
    expect(await owner({}, ["--context", "bob"])).toBe("bob");
    expect(await owner({ RUNJOB_CONTEXT: "bob" })).toBe("bob");
    // alice, the current context, may not see bob's job: NotFound, as for a job that does not exist.
    expect(await owner({})).toBe("JW_ERR_NOT_FOUND");
    expect((await cli(["context", "use", "bob"])).stdout.toString()).toBe("current context: bob\n");
    expect(await owner({})).toBe("bob");
    const table = (await cli(["context", "ls"])).stdout.toString();
    expect(table.split("\n").map((line) => line.split(/\s+/).slice(0, 3).join(" "))).toEqual([
      " NAME SERVER",
      ` local localhost:${server.port}`,
      `* bob localhost:${server.port}`,
      "",
    ]);
    await cli(["context", "use", "local"]);
  });

  it("list -c a -c b shows several contexts' jobs in one table with a CONTEXT column", async () => {
    const alices = (await cli(["start", "--", "/bin/echo", "alice's"])).stdout.toString().trim();
    const bobs = (await cli(["start", "-c", "bob", "--", "/bin/echo", "bob's"])).stdout.toString().trim();
    const listed = await cli(["list", "-c", "local", "-c", "bob"]);
    expect({ code: listed.code, stderr: listed.stderr.toString() }).toEqual({ code: 0, stderr: "" });
    const rows = listed.stdout.toString().trimEnd().split("\n");
    expect(rows[0]).toMatch(/^CONTEXT {2}ID +NAME +OWNER +STATE/);
    // Tables show 12-character ids, as docker does.
    const row = (id: string) => rows.find((line) => line.includes(id.slice(0, 12)));
    expect(row(alices)).toMatch(new RegExp(`^local +${alices.slice(0, 12)} +- +alice `));
    expect(row(bobs)).toMatch(new RegExp(`^bob +${bobs.slice(0, 12)} +- +bob `));
    const json = JSON.parse((await cli(["list", "-c", "local", "-c", "bob", "--json"])).stdout.toString());
    expect(json.find((job: { id: string }) => job.id === bobs)).toMatchObject({ context: "bob", owner: "bob" });
  });

  it("list --all-contexts still lists the servers that answer when one does not, and names the one that failed", async () => {
    await addContext("down", "alice", [], "localhost:1");
    const listed = await cli(["list", "--all-contexts"]);
    expect(listed.code).toBe(125);
    expect(listed.stderr).toBe(
      "runjob: context down: cannot reach the server at localhost:1: is jobworker-server running? (set --server or RUNJOB_SERVER) [JW_ERR_UNREACHABLE]\n",
    );
    const contexts = new Set(
      listed.stdout
        .toString()
        .trimEnd()
        .split("\n")
        .slice(1)
        .map((row) => row.split(" ")[0]),
    );
    expect(contexts).toEqual(new Set(["local", "bob"]));
  });

  it("an unknown context is named with the nearest known one; context rm forgets one", async () => {
    const typo = await cli(["list", "-c", "bobb"]);
    expect([typo.code, typo.stderr]).toEqual([
      125,
      `runjob: no context named "bobb" (from --context) (did you mean "bob"?); known contexts: local, bob, down ('runjob context ls') [JW_ERR_CLI_CONFIG]\n`,
    ]);
    const fromEnv = await cli(["list"], { env: { RUNJOB_CONTEXT: "lokal" } });
    expect(fromEnv.stderr).toBe(
      `runjob: no context named "lokal" (from RUNJOB_CONTEXT) (did you mean "local"?); known contexts: local, bob, down ('runjob context ls') [JW_ERR_CLI_CONFIG]\n`,
    );
    expect((await cli(["context", "rm", "down"])).stdout.toString()).toBe("context down removed\n");
    const removed = await cli(["context", "rm", "down"]);
    expect(removed.stderr).toBe(`runjob: no context named "down"; known contexts: local, bob [JW_ERR_CLI_CONFIG]\n`);
  });
});
