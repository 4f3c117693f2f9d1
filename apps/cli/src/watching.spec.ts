import { createInterface } from "node:readline";
import { JOB_ID_PATTERN } from "@jobworker/proto";
import { ServerProcess } from "@jobworker/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, runjob, spawnRunjob } from "./testing/cli-harness.js";

const needsRoot = process.getuid?.() !== 0;
const MiB = 2 ** 20;

interface JobJson {
  id: string;
  name: string;
  state: string;
  endReason: string;
  exitCode?: number;
  endTime?: string;
  labels: Record<string, string>;
  usage?: { memoryCurrentBytes: string; cpuPercent: number };
}

describe.skipIf(needsRoot)("runjob watching, names and labels against a real server (needs root: real jobs)", () => {
  let server: ServerProcess;
  const cli = (...args: string[]) => runjob(server, args);
  const text = (result: CliResult) => result.stdout.toString();
  const json = <T>(result: CliResult): T => JSON.parse(text(result)) as T;

  beforeAll(async () => {
    server = await ServerProcess.start();
  });

  afterAll(async () => {
    try {
      await runjob(server, ["clean", "--all-owners"], { identity: "admin" });
      expect(await server.kill("SIGTERM")).toBe(0);
    } finally {
      await server.dispose();
    }
  });

  it("list -w --json (NDJSON) shows a job another command starts, then its end with reason and exit code within 100 ms", async () => {
    // A job already there shows in the watch's snapshot: once its line is out, every change after is watched.
    const marker = text(await cli("start", "--label", "watch=me", "--", "/bin/sleep", "60")).trim();
    const watcher = spawnRunjob(server, ["list", "-w", "--json", "-l", "watch=me"]);
    try {
      const lines = createInterface({ input: watcher.stdout })[Symbol.asyncIterator]();
      expect((JSON.parse((await lines.next()).value) as JobJson).id).toBe(marker);
      const started = await cli("start", "--label", "watch=me", "--", "/bin/sh", "-c", "sleep 0.5; exit 3");
      const id = text(started).trim();
      const seen: { job: JobJson; at: number }[] = [];
      const deadline = AbortSignal.timeout(30_000);
      while (!seen.some(({ job }) => job.id === id && job.state === "JOB_STATE_ENDED")) {
        if (deadline.aborted) throw new Error(`no end of ${id} within 30 s: ${JSON.stringify(seen)}`);
        const next = await lines.next();
        if (next.done) throw new Error(`list -w ended early: ${JSON.stringify(seen)}`);
        seen.push({ job: JSON.parse(next.value) as JobJson, at: Date.now() });
      }
      const mine = seen.filter(({ job }) => job.id === id);
      expect(mine.map(({ job }) => job.state)).toEqual(["JOB_STATE_STARTING", "JOB_STATE_RUNNING", "JOB_STATE_ENDED"]);
      const end = mine.at(-1);
      expect(end?.job).toMatchObject({ endReason: "END_REASON_EXITED", exitCode: 3, labels: { watch: "me" } });
      expect((end?.at ?? 0) - Date.parse(end?.job.endTime ?? "")).toBeLessThanOrEqual(100);
    } finally {
      watcher.kill("SIGINT");
      await cli("stop", "--grace", "0s", marker);
    }
  });

  it("events --json prints one JSON object per change", async () => {
    const watcher = spawnRunjob(server, ["events", "--json", "-l", "ev=1"]);
    try {
      const lines = createInterface({ input: watcher.stdout })[Symbol.asyncIterator]();
      // From the SYNCED marker on, the watch misses nothing: a job started before it could be missed.
      const synced = JSON.parse((await lines.next()).value) as { type: string; reset: boolean };
      expect(synced).toMatchObject({ type: "JOB_EVENT_TYPE_SYNCED", reset: false });
      const id = text(await cli("start", "-l", "ev=1", "--", "/bin/true")).trim();
      const types: string[] = [];
      while (!types.includes("JOB_EVENT_TYPE_ENDED")) {
        const next = await lines.next();
        if (next.done) throw new Error(`events ended early after ${types.join(", ")}`);
        const event = JSON.parse(next.value) as { type: string; job: JobJson; revision: string };
        expect(event.job.id).toBe(id);
        types.push(event.type);
      }
      expect(types).toEqual(["JOB_EVENT_TYPE_CREATED", "JOB_EVENT_TYPE_RUNNING", "JOB_EVENT_TYPE_ENDED"]);
    } finally {
      watcher.kill("SIGINT");
    }
  });

  it("--name and -l select the right jobs; a second job of the same owner and name is refused ALREADY_EXISTS", async () => {
    const a = text(
      await cli("start", "--name", "build-a", "-l", "team=infra", "-l", "ci=true", "--", "/bin/true"),
    ).trim();
    const b = text(await cli("start", "--name", "build-b", "-l", "team=web", "--", "/bin/sleep", "60")).trim();
    expect(a).toMatch(JOB_ID_PATTERN);
    const again = await cli("start", "--name", "build-a", "--", "/bin/true");
    expect(again.code).toBe(125);
    expect(again.stderr).toContain("JW_ERR_ALREADY_EXISTS");
    expect((await cli("wait", "build-a")).code).toBe(0);
    expect(json<JobJson>(await cli("status", "build-b", "--json")).id).toBe(b);
    expect(text(await cli("list", "-q", "-l", "team=infra")).trim()).toBe(a);
    expect(
      text(await cli("list", "-o", "name", "-l", "team"))
        .trim()
        .split("\n"),
    ).toEqual([a, b]);
    const table = text(await cli("list", "-l", "team"));
    expect(table).toMatch(new RegExp(`^${a.slice(0, 12)}\\s+build-a\\s`, "m"));
    expect(table).not.toContain(a);
    expect(text(await cli("list", "-o", "wide", "-l", "team=infra"))).toContain("ci=true,team=infra");
    expect(text(await cli("list", "-o", "yaml", "-l", "team=infra"))).toContain(`"id": "${a}"`);
    // prune deletes only the ended one; stop takes names and selectors.
    expect(text(await cli("prune", "-l", "team"))).toBe("deleted 1 ended job\n");
    expect(text(await cli("stop", "--grace", "0s", "-l", "team=web"))).toMatch(new RegExp(`^${b} stopped`));
    expect(text(await cli("delete", "build-b"))).toBe(`deleted ${b}\n`);
    expect(text(await cli("list", "-q", "-l", "team"))).toBe("");
  });

  it("status --json of a job holding 50 MiB shows current memory between 50 and 80 MiB", async () => {
    const id = text(
      await cli(
        "start",
        "--memory",
        "256MiB",
        "--",
        "/bin/sh",
        "-c",
        "head -c 52428800 /dev/zero > /tmp/fill; echo filled; exec sleep 60",
      ),
    ).trim();
    // Following the output until the job says it is done filling: no sleeping.
    const follower = spawnRunjob(server, ["logs", "-f", id]);
    for await (const line of createInterface({ input: follower.stdout })) if (line === "filled") break;
    follower.kill("SIGINT");
    const job = json<JobJson>(await cli("status", "--json", id));
    const current = Number(job.usage?.memoryCurrentBytes);
    expect(current).toBeGreaterThanOrEqual(50 * MiB);
    expect(current).toBeLessThanOrEqual(80 * MiB);
    await cli("stop", "--grace", "0s", id);
  });

  it("stats --no-stream shows a job spinning on one core at --cpu 500m at 40-60 %", async () => {
    const id = text(
      await cli("start", "--cpu", "500m", "--name", "spin", "--", "/bin/sh", "-c", "while :; do :; done"),
    ).trim();
    // On a machine busy with other work the job may get less than its quota for a while: up to five
    // samples are taken; none may pass 60 %, and one must land within 40-60 %.
    const percents: number[] = [];
    while (percents.length < 5 && !percents.some((percent) => percent >= 40 && percent <= 60)) {
      const samples = json<{ id: string; usage: { cpuPercent: number } }[]>(
        await cli("stats", "--no-stream", "--json", "--interval", "1s", "spin"),
      );
      expect(samples.map((sample) => sample.id)).toEqual([id]);
      percents.push(samples[0]?.usage.cpuPercent ?? -1);
    }
    expect(Math.max(...percents)).toBeLessThanOrEqual(60);
    expect(
      percents.some((percent) => percent >= 40 && percent <= 60),
      `CPU % per sample: ${percents}`,
    ).toBe(true);
    const table = text(await cli("stats", "--no-stream", "--interval", "250ms", "spin"));
    expect(table).toMatch(/^ID\s+NAME\s+CPU %/);
    expect(table).toContain(id.slice(0, 12));
    await cli("stop", "--grace", "0s", id);
  });

  it("logs --tail 3 of seq 1 1000000 prints its last three numbers; --tail follows on with -f; -t stamps lines", async () => {
    const id = text(await cli("start", "--name", "seq", "--", "seq", "1", "1000000")).trim();
    expect((await cli("wait", id)).code).toBe(0);
    expect(text(await cli("logs", "--tail", "3", "seq"))).toBe("999998\n999999\n1000000\n");
    expect(text(await cli("logs", "--tail", "0", "seq"))).toBe("");
    const stamped = text(await cli("logs", "--tail", "2", "-t", "seq"));
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 999999\n\S+ 1000000\n$/);
    const followed = await cli("start", "--", "/bin/sh", "-c", "seq 1 5; seq 6 8");
    const fid = text(followed).trim();
    expect(text(await cli("logs", "--tail", "2", "-f", fid))).toBe("7\n8\n");
  });

  it("logs --since excludes output written before the given time", async () => {
    const id = text(await cli("start", "--", "/bin/echo", "early")).trim();
    expect((await cli("wait", id)).code).toBe(0);
    expect(text(await cli("logs", "--since", "10m", id))).toBe("early\n");
    const later = new Date(Date.now() + 60_000).toISOString();
    expect(text(await cli("logs", "--since", later, id))).toBe("");
    const bad = await cli("logs", "--since", "yesterday", id);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain("neither a duration");
  });
});
