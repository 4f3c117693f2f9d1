import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { ServerProcess } from "@jobworker/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runjob, runjobPath, runShell, spawnRunjob } from "./testing/cli-harness.js";

const needsRoot = process.getuid?.() !== 0;

describe.skipIf(needsRoot)("runjob start -i and kill against a real server (needs root)", () => {
  let server: ServerProcess;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp("/var/tmp/jobworker-test-stdin-");
    server = await ServerProcess.start();
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
    try {
      await runjob(server, ["clean", "--all-owners"], { identity: "admin" });
      expect(await server.kill("SIGTERM")).toBe(0);
    } finally {
      await server.dispose();
    }
  });

  it("start -i sends stdin to the job and its EOF closes the job's: sort sorts", async () => {
    const result = await runShell(server, `printf 'b\\na\\n' | node ${runjobPath} start -i -f -- sort`);
    expect(result.stderr).toMatch(/^job [0-9a-f-]{36}\n$/);
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout.toString()).toBe("a\nb\n");
  });

  it("100 MiB of random bytes piped through cat come back byte-identical", async () => {
    const file = join(dataDir, "random");
    const script = [
      `head -c ${100 * 2 ** 20} /dev/urandom > ${file}`,
      `sha256sum < ${file}`,
      `node ${runjobPath} start -i -- cat < ${file} | sha256sum`,
      // The pipeline's status is sha256sum's: the CLI's is checked separately.
      `node ${runjobPath} start -i -- cat < /dev/null; echo "empty exit $?"`,
    ].join("\n");
    const result = await runShell(server, script);
    const [sent, received, empty] = result.stdout.toString().trim().split("\n");
    expect(received).toBe(sent);
    expect(empty).toBe("empty exit 0");
  }, 300_000);

  it("a job that exits on its input's last line still reports its exit (20 runs)", async () => {
    // The launcher closes its attach socket as the job exits, a moment before the
    // server records the end: the CLI's end of input then meets a launcher that is
    // gone, which once failed the whole attach (exit 125) about one run in four.
    const codes: number[] = [];
    for (let run = 0; run < 20; run++) {
      codes.push((await runShell(server, `echo 'exit 7' | node ${runjobPath} start -i -- /bin/sh`)).code ?? -1);
    }
    expect(codes).toEqual(Array(20).fill(7));
  }, 120_000);

  it("the job's exit code is the CLI's, and kill sends a signal without the stop sequence", async () => {
    expect((await runShell(server, `echo 'exit 7' | node ${runjobPath} start -i -- /bin/sh`)).code).toBe(7);
    const started = await runjob(server, [
      "start",
      "--",
      "/bin/sh",
      "-c",
      "trap 'echo hup' HUP; while :; do sleep 0.05; done",
    ]);
    const id = started.stdout.toString().trim();
    expect((await runjob(server, ["kill", "-s", "HUP", id])).code).toBe(0);
    const killed = await runjob(server, ["kill", "--signal", "KILL", id]);
    expect(killed.code).toBe(0);
    expect((await runjob(server, ["wait", id])).code).toBe(137);
    expect((await runjob(server, ["logs", id])).stdout.toString()).toContain("hup");
    const late = await runjob(server, ["kill", id]);
    expect(late.code).toBe(125);
    expect(late.stderr).toMatch(/has ended/);
    const bad = await runjob(server, ["kill", "-s", "NOPE", id]);
    expect(bad.stderr).toMatch(/unknown signal/);
    const foreign = await runjob(server, ["kill", id], { identity: "bob" });
    expect(foreign.stderr).toMatch(/not found/);
  });

  it("kill signals several jobs at once, named by name, id or label selector, and prints each id", async () => {
    const start = async (...flags: string[]) =>
      (await runjob(server, ["start", ...flags, "--", "/bin/sleep", "600"])).stdout.toString().trim();
    const named = await start("--name", "kill-by-name");
    const labelled = [await start("-l", "kill=by-label"), await start("-l", "kill=by-label")];
    const kill = await runjob(server, ["kill", "-s", "KILL", "kill-by-name", "-l", "kill=by-label"]);
    expect(kill.code).toBe(0);
    expect(kill.stdout.toString().trim().split("\n").sort()).toEqual([named, ...labelled].sort());
    for (const id of [named, ...labelled]) expect((await runjob(server, ["wait", id])).code).toBe(137);
    const nothing = await runjob(server, ["kill"]);
    expect(nothing.code).toBe(125);
    expect(nothing.stderr).toMatch(/name at least one job/);
  });

  it("exec runs a command in a running job: its hostname, its processes, stdin with -i, its exit code as runjob's", async () => {
    const started = await runjob(server, ["start", "--", "/bin/sh", "-c", "hostname; exec sleep 1000"]);
    const id = started.stdout.toString().trim();
    // The job's first line is its hostname: follow its output until it is there.
    const follower = spawnRunjob(server, ["logs", "-f", id]);
    let seen = "";
    for await (const chunk of follower.stdout) {
      seen += chunk.toString();
      if (seen.includes("\n")) break;
    }
    follower.kill("SIGINT");
    const hostname = seen.split("\n")[0];
    const exec = await runjob(server, ["exec", id, "--", "hostname"]);
    expect(exec).toMatchObject({ code: 0 });
    expect(exec.stdout.toString()).toBe(`${hostname}\n`);
    const ps = await runjob(server, ["exec", id, "--", "ps", "-e", "-o", "comm="]);
    expect(ps.stdout.toString()).toMatch(/^sleep$/m);
    const piped = await runShell(
      server,
      `printf 'b\\na\\n' | node ${runjobPath} exec -i ${id} -- sh -c 'sort; exit 5'`,
    );
    expect(piped.code).toBe(5);
    expect(piped.stdout.toString()).toBe("a\nb\n");
    const stderr = await runjob(server, ["exec", id, "--", "sh", "-c", "echo to-stderr >&2"]);
    expect(stderr.stderr).toBe("to-stderr\n");
    expect((await runjob(server, ["exec", id, "--", "no-such-program"])).stderr).toMatch(
      /cannot execute no-such-program/,
    );
    expect((await runjob(server, ["exec", id, "--", "hostname"], { identity: "bob" })).stderr).toMatch(/not found/);
    await runjob(server, ["kill", "-s", "KILL", id]);
  });
});
