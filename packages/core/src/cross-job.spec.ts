import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { processesOfUid } from "@jobworker/testkit/host";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Job } from "./job.js";
import type { JobManager } from "./job-manager.js";
import { collect, needsRoot, type TempManager, tempManager } from "./testing/temp-manager.js";

const everyone = { allOwners: true } as const;

/**
 * Two jobs share nothing but the host. The PID namespace hides each job's
 * processes from the other, and their distinct uids would refuse a signal even
 * if it did not: each check here gets a real host pid, so it can fail.
 */
describe.skipIf(needsRoot)("one job cannot signal another (needs root: namespaces, uid switching)", () => {
  let temp: TempManager;
  let manager: JobManager;

  beforeAll(async () => {
    temp = await tempManager();
    manager = temp.manager;
  });
  afterAll(() => temp.dispose());

  /** Starts a job whose program sleeps, and returns it with that process's pid as the host sees it. */
  async function sleeper(owner: string): Promise<{ job: Job; hostPid: number }> {
    // start resolves once the program has been exec'd (the launch's failure pipe is close-on-exec),
    // so from here on the job's process is named sleep, never still sh.
    const job = await manager.start(owner, { command: "/bin/sleep", args: ["1000"] });
    // The job's uid may own its init as well as its program: the program is the one named sleep.
    const sleepers: number[] = [];
    for (const pid of await processesOfUid(job.uid)) {
      const name = await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "");
      if (name.trim() === "sleep") sleepers.push(pid);
    }
    expect(sleepers).toHaveLength(1);
    return { job, hostPid: sleepers[0] ?? 0 };
  }

  /** Ends the victim with SIGTERM: a job some other signal ended first shows that one instead. */
  async function signalThatEnds(job: Job): Promise<number | undefined> {
    return (await manager.stop(job.id, everyone, { graceMs: 10_000 })).signal;
  }

  it("a job that signals another job's host pid gets ESRCH: that pid does not exist in its PID namespace", async () => {
    const victim = await sleeper("bob");
    process.kill(victim.hostPid, 0); // the pid is real and alive on the host
    const attacker = await manager.start("alice", {
      command: "/bin/sh",
      args: [
        "-c",
        `test -e /proc/${victim.hostPid} && echo visible || echo invisible; kill -KILL ${victim.hostPid} 2>&1; echo "exit $?"`,
      ],
    });
    expect((await manager.wait(attacker.id, everyone)).exitCode).toBe(0);
    const output = (await collect(manager.openOutput(attacker.id, everyone))).toString();
    expect(output).toMatch(/^invisible\n.*kill: No such process\s+exit 1\n$/);
    expect(await signalThatEnds(victim.job)).toBe(15);
  });

  it("a process with another job's uid gets EPERM for the victim's host pid, even in the host's PID namespace", async () => {
    const victim = await sleeper("bob");
    const attacker = await sleeper("alice");
    expect(attacker.job.uid).not.toBe(victim.job.uid);
    const signalAs = (uid: number, signal: string) =>
      new Promise<string>((resolve) =>
        execFile(
          "/bin/sh",
          ["-c", `kill -${signal} ${victim.hostPid} 2>&1; echo "exit $?"`],
          { uid, gid: uid, env: {} },
          (_error, stdout) => resolve(stdout),
        ),
      );
    // The control: the victim's own uid may signal it, so a refusal below is the uid's doing.
    expect(await signalAs(victim.job.uid, "0")).toBe("exit 0\n");
    expect(await signalAs(attacker.job.uid, "KILL")).toMatch(/kill: Operation not permitted\s+exit 1\n$/);
    expect(await signalThatEnds(victim.job)).toBe(15);
    await manager.stop(attacker.job.id, everyone, { graceMs: 0 });
  });
});
