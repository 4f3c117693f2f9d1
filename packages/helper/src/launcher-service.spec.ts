import { mkdir, mkdtemp, readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileAppears } from "@jobworker/testkit/host";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sendControl } from "./control.js";
import { readExitRecord } from "./exit-record.js";
import { LaunchError } from "./launch-error.js";
import type { LaunchSpec } from "./launch-spec.js";
import { LauncherService, launcherPath } from "./launcher-service.js";
import { testLaunchSpec } from "./testing/test-launch-spec.js";
import { waitForLog } from "./testing/wait-for-log.js";

const needsRoot = process.getuid?.() !== 0;
const UID = 299_999;

describe.skipIf(needsRoot)("the launcher without cgroups (needs root: namespaces and setuid)", () => {
  let stateDir: string;
  let spec: (argv: string[]) => LaunchSpec;
  let service: LauncherService;
  const launch = (launchSpec: LaunchSpec) => service.launch(launchSpec);

  beforeAll(() => {
    service = new LauncherService();
  });
  afterAll(() => service.close());

  beforeEach(async () => {
    stateDir = await mkdtemp("/var/tmp/jobworker-test-launcher-");
    const jobDir = join(stateDir, "jobs", "j1");
    await mkdir(jobDir, { recursive: true });
    spec = (argv) => testLaunchSpec({ stateDir, jobDir, uid: UID, hostname: "job-test", limitBytes: 2 ** 20 }, argv);
  });

  afterEach(() => rm(stateDir, { recursive: true, force: true }));

  it("reports 'started', then writes the exit record atomically once the job ends", async () => {
    const launched = await launch(spec(["/bin/sh", "-c", "echo hi; exit 9"]));
    expect(launched.initPid).toBeGreaterThan(1);
    expect(await launched.launcherExited).toBe(true);
    const jobDir = spec([]).jobDir;
    expect(await readExitRecord(jobDir)).toEqual({ kind: "exited", exitCode: 9 });
    expect(await readFile(join(jobDir, "output.log"), "utf8")).toBe("hi\n");
    // The launcher's FIFO, socket and (empty) diagnostics go with it: the folder keeps the output and records.
    expect((await readdir(jobDir)).sort()).toEqual(["exit.json", "output.log"]);
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
    // The launcher names its own start time (field 22 of /proc/PID/stat): the server need not read it.
    const stat = await readFile(`/proc/${graceful.launcherPid}/stat`, "utf8");
    expect(graceful.launcherStartTime).toBe(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
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

  it("refuses to run a job as root, or as uid 2^32-1, which would leave setresuid a no-op", async () => {
    await expect(launch({ ...spec(["/bin/true"]), uid: 0 })).rejects.toThrow("launcher: parse arguments: EINVAL");
    await expect(launch({ ...spec(["/bin/true"]), uid: 2 ** 32 - 1 })).rejects.toThrow(/EINVAL/);
    await expect(launch({ ...spec(["/bin/true"]), gid: 2 ** 32 - 1 })).rejects.toThrow(/EINVAL/);
  });

  it("parses numbers strictly: a malformed size is refused, never read as unlimited or zero", async () => {
    for (const diskBytes of [Number.NaN, -1, 1.5, 2 ** 64]) {
      await expect(launch({ ...spec(["/bin/true"]), diskBytes })).rejects.toThrow(/EINVAL/);
    }
  });

  it("names the failing call and its path, and enters the working directory as the job's user", async () => {
    const missing = await launch({ ...spec(["/bin/true"]), workdir: "/work/missing" }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ call: "chdir", path: "/work/missing", errno: "ENOENT", isWorkdirFailure: true });
    expect(String(missing)).toContain("launcher: chdir /work/missing: ENOENT");
    // A world-readable directory inside a 0700 one: root could enter it, the job's user cannot.
    const secret = await mkdtemp("/var/tmp/jobworker-test-secret-");
    try {
      await mkdir(join(secret, "sub"), { mode: 0o755 });
      const exposed = [{ path: secret, writable: false }];
      const denied = await launch({ ...spec(["/bin/true"]), exposed, workdir: join(secret, "sub") }).catch(
        (e: unknown) => e,
      );
      expect(denied).toMatchObject({ call: "chdir", errno: "EACCES", isWorkdirFailure: true });
    } finally {
      await rm(secret, { recursive: true });
    }
  });
});

describe.skipIf(needsRoot)("the launcher service (needs root)", () => {
  let stateDir: string;
  const specFor = async (name: string, argv: string[]): Promise<LaunchSpec> => {
    const jobDir = join(stateDir, "jobs", name);
    await mkdir(jobDir, { recursive: true });
    return {
      jobDir,
      logPath: join(jobDir, "output.log"),
      executable: argv[0] ?? "",
      argv,
      env: { PATH: "/usr/bin:/bin", NAME: name },
      workdir: "/work",
      privateDir: "/work",
      hideDir: stateDir,
      systemDirs: ["/usr", "/bin", "/lib", "/lib64", "/etc"],
      exposed: [],
      hostname: `job-${name}`,
      uid: UID,
      gid: UID,
      diskBytes: 2 ** 20,
      diskInodes: 1024,
      outputLimitBytes: 2 ** 20,
      cgroup1Paths: [],
    };
  };

  beforeEach(async () => {
    stateDir = await mkdtemp("/var/tmp/jobworker-test-launcher-");
  });
  afterEach(() => rm(stateDir, { recursive: true, force: true }));

  it("answers concurrent launches each with their own job, and labels its processes for ps", async () => {
    const service = new LauncherService();
    try {
      const specs = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          specFor(`j${i}`, i % 3 === 2 ? ["/no/such/program"] : ["/bin/sh", "-c", `echo "$NAME"; exit ${i}`]),
        ),
      );
      const results = await Promise.allSettled(specs.map((spec) => service.launch(spec)));
      for (const [i, result] of results.entries()) {
        const spec = specs[i] as LaunchSpec;
        if (i % 3 === 2) {
          expect(result.status).toBe("rejected");
          expect((result as PromiseRejectedResult).reason).toMatchObject({ errno: "ENOENT" });
          continue;
        }
        expect(result.status).toBe("fulfilled");
        const launched = (result as PromiseFulfilledResult<Awaited<ReturnType<LauncherService["launch"]>>>).value;
        expect(await launched.launcherExited).toBe(true);
        expect(await readExitRecord(spec.jobDir)).toEqual({ kind: "exited", exitCode: i });
        expect(await readFile(spec.logPath, "utf8")).toBe(`j${i}\n`);
      }
      expect(await cmdline(service.pid ?? 0)).toEqual([launcherPath, "--serve"]);
    } finally {
      await service.close();
    }
  });

  it("when the service dies, running jobs carry on, their launchers are reported unknown, and the next launch starts a new service", async () => {
    const warnings: string[] = [];
    const service = new LauncherService((message) => warnings.push(message));
    try {
      const spec = await specFor("long", ["/bin/sh", "-c", "echo ready; sleep 1000 & wait"]);
      const launched = await service.launch(spec);
      expect(await cmdline(launched.launcherPid)).toEqual([launcherPath, "job"]);
      const firstPid = service.pid ?? 0;
      process.kill(firstPid, "SIGKILL");
      expect(await launched.launcherExited).toBe(false);
      expect(warnings.join("\n")).toMatch(/launcher service stopped/);
      // The job is untouched: its launcher still obeys the control FIFO and records the end.
      await waitForLog(spec.logPath, "ready");
      expect(await sendControl(spec.jobDir, "kill")).toBe(true);
      await fileAppears(spec.jobDir, "exit.json");
      expect(await readExitRecord(spec.jobDir)).toEqual({ kind: "signaled", signal: 9, statusKnown: false });

      const next = await service.launch(await specFor("next", ["/bin/true"]));
      expect(service.pid).not.toBe(firstPid);
      expect(await next.launcherExited).toBe(true);
    } finally {
      await service.close();
    }
  });

  it("close stops the service but not the jobs it started", async () => {
    const service = new LauncherService();
    const spec = await specFor("survivor", ["/bin/sh", "-c", "echo ready; sleep 1000 & wait"]);
    const launched = await service.launch(spec);
    const servicePid = service.pid ?? 0;
    await service.close();
    expect(await cmdline(servicePid)).toEqual([]);
    expect(await launched.launcherExited).toBe(false);
    await waitForLog(spec.logPath, "ready");
    expect(await sendControl(spec.jobDir, "kill")).toBe(true);
    await fileAppears(spec.jobDir, "exit.json");
    await expect(service.launch(spec)).rejects.toThrow(/closed/);
  });
});

/** A process's argv, or [] once it is gone. */
async function cmdline(pid: number): Promise<string[]> {
  const text = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  return text.split("\0").filter(Boolean);
}

/** Where this host's pids controller lives: a v1 hierarchy of its own, or the unified one. */
async function pidsHierarchy(): Promise<{ root: string; unified: boolean } | undefined> {
  if ((await readdir("/sys/fs/cgroup/pids").catch(() => undefined)) !== undefined) {
    return { root: "/sys/fs/cgroup/pids", unified: false };
  }
  const controllers = await readFile("/sys/fs/cgroup/cgroup.controllers", "utf8").catch(() => "");
  return controllers
    .split(" ")
    .map((c) => c.trim())
    .includes("pids")
    ? { root: "/sys/fs/cgroup", unified: true }
    : undefined;
}

describe.skipIf(needsRoot)("the launcher creating the job's cgroup (needs root and the pids controller)", () => {
  let stateDir: string;
  let parent: string;
  let hierarchy: { root: string; unified: boolean };
  let service: LauncherService;

  beforeAll(async () => {
    const found = await pidsHierarchy();
    if (!found) throw new Error("this host has no pids cgroup controller, v1 or v2");
    hierarchy = found;
    parent = join(hierarchy.root, `jobworker-test-launcher-${process.pid}`);
    await mkdir(parent);
    if (hierarchy.unified) {
      await writeFile(join(hierarchy.root, "cgroup.subtree_control"), "+pids");
      await writeFile(join(parent, "cgroup.subtree_control"), "+pids");
    }
    service = new LauncherService();
  });
  afterAll(async () => {
    await service.close();
    await rmdir(parent);
  });
  beforeEach(async () => {
    stateDir = await mkdtemp("/var/tmp/jobworker-test-launcher-");
    await mkdir(join(stateDir, "jobs", "j1"), { recursive: true });
  });
  afterEach(() => rm(stateDir, { recursive: true, force: true }));

  const launch = (spec: LaunchSpec) => service.launch(spec);
  const specIn = (dir: string, writes: [string, string][], argv: string[]): LaunchSpec => ({
    ...testLaunchSpec(
      { stateDir, jobDir: join(stateDir, "jobs", "j1"), uid: UID, hostname: "job-test", limitBytes: 2 ** 20 },
      argv,
    ),
    ...(hierarchy.unified ? { cgroup2Path: dir, cgroup1Paths: [] } : { cgroup1Paths: [dir] }),
    cgroupWrites: writes,
  });

  it("creates it, writes the limits, runs the job in it, and records what it was asked to read once the job is gone", async () => {
    const dir = join(parent, "limited");
    const spec = {
      ...specIn(dir, [[join(dir, "pids.max"), "7"]], ["/bin/sh", "-c", "echo ready; sleep 1000 & wait"]),
      cgroupReads: [join(dir, "pids.max"), join(dir, "pids.current")],
    };
    const launched = await launch(spec);
    await waitForLog(spec.logPath, "ready");
    expect((await readFile(join(dir, "pids.max"), "utf8")).trim()).toBe("7");
    expect((await readFile(join(dir, "cgroup.procs"), "utf8")).split("\n")).toContain(String(launched.initPid));
    expect(await sendControl(spec.jobDir, "kill")).toBe(true);
    expect(await launched.launcherExited).toBe(true);
    const record = await readExitRecord(spec.jobDir);
    expect(record?.cgroup?.files).toEqual({ [join(dir, "pids.max")]: "7\n", [join(dir, "pids.current")]: "0\n" });
    expect(record?.cgroup?.v1Removed).toBe(true);
    // A v1 directory goes with the job; the unified one is the server's to remove.
    if (hierarchy.unified) await rmdir(dir);
    expect(await readdir(dir).catch((e: NodeJS.ErrnoException) => e.code)).toBe("ENOENT");
  });

  it("refuses a limit the kernel refuses, naming the file, and leaves no cgroup behind", async () => {
    const dir = join(parent, "refused");
    const error = await launch(specIn(dir, [[join(dir, "pids.max"), "many"]], ["/bin/true"])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LaunchError);
    expect(error).toMatchObject({ call: "cgroup", path: join(dir, "pids.max"), errno: "EINVAL" });
    expect(await readdir(dir).catch((e: NodeJS.ErrnoException) => e.code)).toBe("ENOENT");
  });
});
