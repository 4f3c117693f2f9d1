import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isJobError } from "../errors.js";
import type { JobManager } from "../job-manager.js";
import { parseLabelSelector as parseSelector } from "../labels/label-selector.js";
import { needsRoot, type TempManager, tempManager } from "../testing/temp-manager.js";
import type { WatchEvent } from "./watch-jobs.js";

const alice = { owner: "alice" };

/** Pulls events until `done` says so, failing after `ms`. */
async function eventsUntil(
  events: AsyncIterator<WatchEvent[]>,
  done: (seen: WatchEvent[]) => boolean,
  ms = 60_000,
): Promise<WatchEvent[]> {
  const seen: WatchEvent[] = [];
  const deadline = Date.now() + ms;
  while (!done(seen)) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no event within ${ms} ms; saw ${seen.length}`)),
        deadline - Date.now(),
      );
    });
    const next = await Promise.race([events.next(), late]).finally(() => clearTimeout(timer));
    if (next.done) break;
    seen.push(...next.value);
  }
  return seen;
}

describe.skipIf(needsRoot)("names, labels and watching real jobs (needs root: namespaces, cgroups)", () => {
  let temp: TempManager;
  let manager: JobManager;

  beforeAll(async () => {
    // Room for every ended job of the 1,000: retention would otherwise delete (and report) the oldest.
    temp = await tempManager({ maxConcurrentJobs: 64, maxEndedJobsPerOwner: 5000 });
    manager = temp.manager;
  });

  afterAll(async () => {
    await temp.dispose();
  });

  it("refuses a second job of the same owner with the same name as already_exists; another owner may use it", async () => {
    const first = await manager.start("alice", { command: "/bin/true", name: "build-42", labels: { team: "infra" } });
    expect(first).toMatchObject({ name: "build-42", labels: { team: "infra" } });
    const again = await manager.start("alice", { command: "/bin/true", name: "build-42" }).catch((error) => error);
    expect(isJobError(again) && again.code).toBe("already_exists");
    const bobs = await manager.start("bob", { command: "/bin/true", name: "build-42" });
    await manager.wait(first.id, alice);
    await manager.wait(bobs.id, { owner: "bob" });
    // Deleting the job frees its name.
    await manager.delete(first.id, alice);
    const reused = await manager.start("alice", { command: "/bin/true", name: "build-42" });
    await manager.wait(reused.id, alice);
    await manager.clean({ allOwners: true });
  });

  it("lists and cleans by label selector, and prune (endedOnly) leaves running jobs alone", async () => {
    const infra = await manager.start("alice", { command: "/bin/true", labels: { team: "infra", ci: "true" } });
    const web = await manager.start("alice", { command: "/bin/true", labels: { team: "web" } });
    const sleeper = await manager.start("alice", { command: "/bin/sleep", args: ["60"], labels: { team: "infra" } });
    await manager.wait(infra.id, alice);
    await manager.wait(web.id, alice);
    const ids = (selector: string) => manager.list(alice, { labels: parseSelector(selector) }).map((job) => job.id);
    expect(ids("team=infra")).toEqual([infra.id, sleeper.id]);
    expect(ids("team=infra,ci")).toEqual([infra.id]);
    expect(ids("team!=infra")).toEqual([web.id]);
    expect(await manager.clean(alice, { filter: { labels: parseSelector("team=infra") }, endedOnly: true })).toBe(1);
    expect(manager.list(alice).map((job) => job.id)).toEqual([web.id, sleeper.id]);
    expect(await manager.clean(alice, { filter: { labels: parseSelector("team=infra") } })).toBe(1);
    expect(manager.list(alice).map((job) => job.id)).toEqual([web.id]);
    await manager.clean(alice);
  });

  it("a watch shows the jobs now, then each change; a resume with the last revision loses and repeats nothing across 1,000 fast jobs", async () => {
    const before = await manager.start("alice", { command: "/bin/sleep", args: ["60"] });
    const first = manager.watch(alice);
    const opening = await eventsUntil(first, (seen) => seen.at(-1)?.type === "synced");
    expect(opening.map((event) => event.type)).toEqual(["snapshot", "synced"]);
    await manager.stop(before.id, alice, { graceMs: 0 });
    const count = 1000;
    const started: string[] = [];
    const starting = (async () => {
      for (let i = 0; i < count; i++) {
        const job = await manager.start("alice", { command: "/bin/true" });
        started.push(job.id);
      }
    })();
    // Read part of the stream, drop the watcher, and resume from the last revision it saw.
    const part = await eventsUntil(first, (seen) => seen.length >= 700);
    await first.return(undefined);
    const last = part.at(-1);
    if (!last || last.type === "synced") throw new Error("no change seen");
    const resumed = manager.watch(alice, {
      resume: { epoch: manager.eventLogHead.epoch, afterRevision: last.revision },
    });
    await starting;
    await Promise.all(started.map((id) => manager.wait(id, alice)));
    const { revision: head } = manager.eventLogHead;
    const rest = await eventsUntil(resumed, (seen) => (seen.at(-1)?.revision ?? 0) >= head);
    await resumed.return(undefined);
    const changes = [...part, ...rest];
    expect(changes.some((event) => event.type === "snapshot" || event.type === "synced")).toBe(false);
    const revisions = changes.map((event) => event.revision);
    // Every revision once, in order: nothing lost, nothing twice.
    expect(revisions).toEqual(revisions.map((_, i) => (revisions[0] ?? 0) + i));
    for (const id of started) {
      const types = changes.filter((event) => "job" in event && event.job.id === id).map((event) => event.type);
      expect(types).toEqual(["created", "running", "ended"]);
    }
    const stopped = changes.filter((event) => "job" in event && event.job.id === before.id).map((e) => e.type);
    expect(stopped).toEqual(["stopping", "ended"]);
    await manager.clean(alice);
  }, 600_000);

  it("a state filter shows the change that takes a job out of the state; deletes are events too", async () => {
    const controller = new AbortController();
    const events = manager.watch(alice, { filter: { state: "running" }, signal: controller.signal });
    await eventsUntil(events, (seen) => seen.at(-1)?.type === "synced");
    const job = await manager.start("alice", { command: "/bin/true", labels: { a: "b" } });
    await manager.wait(job.id, alice);
    await manager.delete(job.id, alice);
    const seen = await eventsUntil(events, (all) => all.some((event) => event.type === "ended"));
    expect(seen.map((event) => event.type)).toEqual(["running", "ended"]);
    const ended = seen[1];
    expect(ended && "job" in ended && ended.job).toMatchObject({ endReason: "exited", exitCode: 0 });
    controller.abort();
    expect((await events.next()).done).toBe(true);
  });
});
