import { execFileSync } from "node:child_process";
import { mkdir, readdir, readFile, rm, stat, statfs, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { testStateDir } from "@jobworker/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StateStore, type StoredJob } from "./state-store.js";

const EXT4_MAGIC = 0xef53;

/** A record as the manager stores it; `extra` makes it as large as a test needs. */
function record(id: string, extra = ""): StoredJob {
  return {
    id,
    owner: "alice",
    command: "/bin/true",
    executable: "/bin/true",
    args: extra ? [extra] : [],
    workingDirectory: "/work",
    limits: {},
    state: "starting",
    oomKilled: false,
    createdAt: Date.now(),
    outputBytes: 0,
    uid: 100_000,
  };
}

describe("the state store's job records", () => {
  let dir = "";
  let store: StateStore;
  const warnings: string[] = [];
  const loadIds = async () =>
    (await (await StateStore.open(dir)).loadAll((id, error) => warnings.push(`${id}: ${error}`))).map((r) => r.id);

  beforeEach(async () => {
    dir = await testStateDir();
    store = await StateStore.open(dir);
    warnings.length = 0;
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("saves a record in place, one page, and every later save reads back whole", async () => {
    await store.createJobDir("a");
    const path = join(store.jobDir("a"), "record.json");
    store.saveSync(record("a", "x".repeat(300)));
    const { ino } = await stat(path);
    store.saveSync({ ...record("a"), state: "ended", exitCode: 0 });
    // The same file, still one page: a shorter record leaves no tail of the longer one.
    expect((await stat(path)).ino).toBe(ino);
    expect((await stat(path)).size).toBe(4096);
    expect(JSON.parse(await readFile(path, "utf8"))).toMatchObject({ id: "a", state: "ended", args: [] });
    expect((await readdir(store.jobDir("a"))).sort()).toEqual(["output.log", "record.json"]);
    const [loaded] = await (await StateStore.open(dir)).loadAll(() => {});
    expect(loaded).toMatchObject({ id: "a", state: "ended", exitCode: 0 });
  });

  it("a record larger than a page is replaced through a temporary file, and stays valid as it shrinks", async () => {
    await store.createJobDir("b");
    const path = join(store.jobDir("b"), "record.json");
    store.saveSync(record("b"));
    store.saveSync(record("b", "y".repeat(10_000)));
    expect((await stat(path)).size).toBeGreaterThan(10_000);
    store.saveSync({ ...record("b"), state: "ended" });
    expect(JSON.parse(await readFile(path, "utf8"))).toMatchObject({ state: "ended", args: [] });
    expect((await readdir(store.jobDir("b"))).sort()).toEqual(["output.log", "record.json"]);
  });

  it("a record of a job that grew past a page before a restart is still replaced whole after it", async () => {
    await store.createJobDir("c");
    store.saveSync(record("c", "z".repeat(10_000)));
    const reopened = await StateStore.open(dir);
    await reopened.loadAll(() => {});
    reopened.saveSync({ ...record("c"), state: "ended" });
    expect(JSON.parse(await readFile(join(store.jobDir("c"), "record.json"), "utf8"))).toMatchObject({
      state: "ended",
    });
  });

  it("a folder whose record was created but never written (a crash in between) is removed at load", async () => {
    await store.createJobDir("d");
    await writeFile(join(store.jobDir("d"), "record.json"), "");
    await store.createJobDir("e");
    store.saveSync(record("e"));
    expect(await loadIds()).toEqual(["e"]);
    expect(await readdir(join(dir, "jobs"))).toEqual(["e"]);
    expect(warnings).toEqual([expect.stringContaining("d: Error: the record was never written")]);
  });

  it("removes a job's folder, and one holding more than plain files the thorough way", async () => {
    await store.createJobDir("f");
    store.saveSync(record("f"));
    await writeFile(join(store.jobDir("f"), "exit.json"), "{}\n");
    await store.remove("f");
    await store.createJobDir("g");
    await mkdir(join(store.jobDir("g"), "nested", "deeper"), { recursive: true });
    await writeFile(join(store.jobDir("g"), "nested", "deeper", "file"), "x");
    await store.remove("g");
    await store.remove("never-was");
    expect(await readdir(join(dir, "jobs"))).toEqual([]);
  });

  it("discards folders a few per turn of the event loop, each caller told when its own is gone", async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `x${i}`);
    for (const id of ids) {
      await store.createJobDir(id);
      store.saveSync(record(id));
    }
    const discarded = ids.map((id) => store.discard(id));
    await new Promise(setImmediate); // queued after the store's first turn of removals
    const left = (await readdir(join(dir, "jobs"))).length;
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(ids.length);
    await Promise.all(discarded);
    expect(await readdir(join(dir, "jobs"))).toEqual([]);
  });

  it("marks the jobs folder as the top of unrelated trees where the filesystem is ext4 (needs ext4)", async (context) => {
    if ((await statfs(dir)).type !== EXT4_MAGIC) {
      context.skip(`${dir} is not on ext4: no other filesystem has the attribute`);
    }
    const attributes = execFileSync("lsattr", ["-d", join(dir, "jobs")], { encoding: "utf8" }).split(" ")[0];
    expect(attributes).toContain("T");
  });
});
