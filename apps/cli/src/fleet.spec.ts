import { cp, mkdtemp, rm } from "node:fs/promises";
import { writeDevPki } from "@jobworker/dev-pki";
import { RedisServer, ServerProcess } from "@jobworker/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runjob } from "./testing/cli-harness.js";

let redis: RedisServer;
let pkiDir: string;
let east: ServerProcess;
let west: ServerProcess;
let alone: ServerProcess;

beforeAll(async () => {
  redis = await RedisServer.start();
  pkiDir = await mkdtemp("/var/tmp/jobworker-test-fleet-pki-");
  await writeDevPki(pkiDir);
  const writePki = (dir: string) => cp(pkiDir, dir, { recursive: true });
  const fleet = (host: string) => ["--queue-url", redis.url, "--host-name", host];
  [east, west, alone] = await Promise.all([
    ServerProcess.start({ writePki, args: fleet("east") }),
    ServerProcess.start({ writePki, args: fleet("west") }),
    ServerProcess.start({ writePki }),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([east, west, alone].filter(Boolean).map((server) => server.dispose()));
  await redis?.dispose();
  if (pkiDir) await rm(pkiDir, { recursive: true, force: true });
}, 120_000);

describe("runjob on a fleet", () => {
  it("start --queue prints the id at once; wait, logs, status and list --queue work on it through another server", async () => {
    const started = await runjob(east, ["start", "--queue", "default", "--", "sh", "-c", "echo fleet; exit 3"]);
    expect(started.stderr).toBe("");
    expect(started.code).toBe(0);
    const id = started.stdout.toString().trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const waited = await runjob(west, ["wait", id]);
    expect(waited.code).toBe(3);
    expect((await runjob(west, ["logs", id])).stdout.toString()).toBe("fleet\n");
    const status = (await runjob(west, ["status", id])).stdout.toString();
    expect(status).toMatch(/^Queue:\s+default$/m);
    expect(status).toMatch(/^Host:\s+(east|west)$/m);
    expect(status).toMatch(/^Attempt:\s+1 of 1 /m);
    const table = (await runjob(west, ["list", "--queue", "default"])).stdout.toString();
    expect(table.split("\n")[0]).toMatch(/^ID\s+NAME\s+OWNER\s+STATE\s+HOST\s+RESULT/);
    expect(table).toMatch(new RegExp(`^${id.slice(0, 12)}\\s+-\\s+alice\\s+ended\\s+(east|west)\\s+exit 3`, "m"));
    const listed = JSON.parse((await runjob(east, ["list", "--queue", "default", "--json"])).stdout.toString()) as {
      id: string;
      host: string;
      queue: string;
    }[];
    expect(listed.find((job) => job.id === id)).toMatchObject({
      queue: "default",
      host: expect.stringMatching(/^(east|west)$/),
    });
  });

  it("says what to do when the server is not in a fleet, or fleet flags come without --queue", async () => {
    const refused = await runjob(alone, ["start", "--queue", "default", "--", "true"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/not in a fleet: start it with --queue-url/);
    const usage = await runjob(east, ["start", "--attempts", "2", "--", "true"]);
    expect(usage.code).not.toBe(0);
    expect(usage.stderr).toMatch(/add --queue NAME/);
  });

  it("logs -f on a queued fleet job waits until a server takes it, then follows its output to the end", async () => {
    const started = await runjob(east, [
      "start",
      "--queue",
      "default",
      "--delay",
      "1s",
      "--",
      "sh",
      "-c",
      "echo a; sleep 0.3; echo b",
    ]);
    const id = started.stdout.toString().trim();
    const followed = await runjob(west, ["logs", "-f", id]);
    expect(followed.code).toBe(0);
    expect(followed.stdout.toString()).toBe("a\nb\n");
  });

  it("stop ends a queued fleet job before any server runs it", async () => {
    const started = await runjob(east, ["start", "--queue", "default", "--delay", "1h", "--", "true"]);
    const id = started.stdout.toString().trim();
    expect((await runjob(west, ["status", id])).stdout.toString()).toMatch(/^State:\s+queued$/m);
    const stopped = await runjob(west, ["stop", id]);
    expect(stopped.code).toBe(0);
    expect((await runjob(east, ["status", id])).stdout.toString()).toMatch(/^Result:\s+stopped/m);
  });
});
