import { chown, mkdir, mkdtemp, readdir, readFile, rm, watch } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sendControl } from "./control.js";
import { readExitRecord } from "./exit-record.js";
import { launch } from "./launch.js";
import { LaunchError } from "./launch-error.js";
import type { LaunchSpec } from "./launch-spec.js";

const needsRoot = process.getuid?.() !== 0;
const UID = 299_999;

describe.skipIf(needsRoot)("the launcher without cgroups (needs root: namespaces and setuid)", () => {
  let stateDir: string;
  let spec: (argv: string[]) => LaunchSpec;

  beforeEach(async () => {
    stateDir = await mkdtemp("/var/tmp/jobworker-test-launcher-");
    const jobDir = join(stateDir, "jobs", "j1");
    const workDir = join(stateDir, "work", "j1");
    await mkdir(jobDir, { recursive: true });
    await mkdir(workDir, { recursive: true });
    await chown(workDir, UID, UID);
    spec = (argv) => ({
      jobDir,
      logPath: join(jobDir, "output.log"),
      executable: argv[0] ?? "",
      argv,
      env: { PATH: "/usr/bin:/bin" },
      workdir: workDir,
      privateDir: workDir,
      hideDir: stateDir,
      hostname: "job-test",
      uid: UID,
      gid: UID,
      tmpSizeBytes: 2 ** 20,
      cgroup1Paths: [],
    });
  });

  afterEach(() => rm(stateDir, { recursive: true, force: true }));

  it("reports 'started', then writes the exit record atomically once the job ends", async () => {
    const launched = await launch(spec(["/bin/sh", "-c", "echo hi; exit 9"]));
    expect(launched.initPid).toBeGreaterThan(1);
    await launched.launcherExited;
    const jobDir = spec([]).jobDir;
    expect(await readExitRecord(jobDir)).toEqual({ kind: "exited", exitCode: 9 });
    expect(await readFile(join(jobDir, "output.log"), "utf8")).toBe("hi\n");
    expect((await readdir(jobDir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("reports an exec failure synchronously, naming the errno", async () => {
    const error = await launch(spec(["/no/such/program"])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LaunchError);
    expect(error).toMatchObject({ errno: "ENOENT", isExecFailure: true });
  });

  it("forwards 'term' to the job through its init, and 'kill' ends the whole namespace", async () => {
    const graceful = await launch(spec(["/bin/sh", "-c", "trap 'exit 12' TERM; echo ready; sleep 1000 & wait"]));
    const jobDir = spec([]).jobDir;
    await waitForLog(join(jobDir, "output.log"), "ready");
    expect(await sendControl(jobDir, "term")).toBe(true);
    await graceful.launcherExited;
    expect(await readExitRecord(jobDir)).toEqual({ kind: "exited", exitCode: 12 });

    await rm(join(jobDir, "exit.json"));
    const stubborn = await launch(spec(["/bin/sh", "-c", "trap '' TERM; sleep 1000 & wait; sleep 1000"]));
    expect(await sendControl(jobDir, "kill")).toBe(true);
    await stubborn.launcherExited;
    expect(await readExitRecord(jobDir)).toEqual({ kind: "signaled", signal: 9, statusKnown: false });
    // No launcher is listening any more: a control request says so instead of hanging.
    expect(await sendControl(jobDir, "term")).toBe(false);
  });

  it("refuses to run a job as root", async () => {
    await expect(launch({ ...spec(["/bin/true"]), uid: 0 })).rejects.toThrow(/parsing its arguments: EINVAL/);
  });
});

/** Resolves once the log contains `text`: an inotify watch first, then reads (so nothing written in between is missed). */
async function waitForLog(path: string, text: string): Promise<void> {
  const controller = new AbortController();
  const events = watch(path, { signal: controller.signal });
  try {
    if ((await readFile(path, "utf8")).includes(text)) return;
    for await (const _event of events) {
      if ((await readFile(path, "utf8")).includes(text)) return;
    }
  } catch (error) {
    if ((error as Error).name !== "AbortError") throw error;
  } finally {
    controller.abort();
  }
}
