import { chmod, readFile, rm, stat, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:net";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { cgroupDirs, processesOfUid } from "@jobworker/testkit/host";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CgroupRoot } from "./cgroups/cgroup-root.js";
import type { ResourceUsage } from "./cgroups/controller.js";
import type { Job } from "./job.js";
import type { JobManager } from "./job-manager.js";
import { collect, needsRoot, type TempManager, tempManager, testTempDir } from "./testing/temp-manager.js";
import { waitForOutput } from "./testing/wait-for-output.js";

const scope = { owner: "alice" };

describe.skipIf(needsRoot)("isolation on the real kernel (needs root: namespaces, cgroups, uid switching)", () => {
  let temp: TempManager;
  let manager: JobManager;
  /** A host directory on a real disk, exposed read-write to jobs. */
  let diskDir: string;

  beforeAll(async () => {
    diskDir = await testTempDir("jobworker-disk-");
    await chmod(diskDir, 0o1777);
    temp = await tempManager({ exposedPaths: [{ path: diskDir, writable: true }] });
    manager = temp.manager;
  });
  afterAll(async () => {
    await temp.dispose();
    await rm(diskDir, { recursive: true, force: true });
  });

  /** Runs a shell script as a job and returns how it ended and what it printed. */
  async function run(
    script: string,
    options: Parameters<JobManager["start"]>[1] extends infer R ? Partial<R> : never = {},
  ) {
    const job = await manager.start("alice", { command: "/bin/sh", args: ["-c", script], ...options });
    const ended = await manager.wait(job.id, scope);
    const output = (await collect(manager.openOutput(job.id, scope))).toString();
    return { job: ended, output };
  }

  it("sees only its own processes, with an init as PID 1 and the job as PID 2", async () => {
    const { output } = await run("ps -eo pid=,comm=");
    const lines = output
      .trim()
      .split("\n")
      .map((line) => line.trim());
    expect(lines[0]).toMatch(/^1 jobworker-launc/);
    expect(lines[1]).toMatch(/^2 sh$/);
    expect(lines.length).toBeLessThanOrEqual(3);
  });

  it("has only a loopback interface, which is up, and cannot reach a server on the host", async () => {
    let connections = 0;
    const server: Server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const { output } = await run(
        `ls /sys/class/net; cat /sys/class/net/lo/operstate; if bash -c 'echo > /dev/tcp/127.0.0.1/${port}' 2>/dev/null; then echo reached; else echo refused; fi`,
      );
      expect(output).toBe("lo\nunknown\nrefused\n");
      expect(connections).toBe(0);
    } finally {
      server.close();
    }
  });

  it("has its own hostname, derived from its id", async () => {
    const { job, output } = await run("hostname");
    expect(output.trim()).toBe(`job-${job.id.slice(0, 8)}`);
    expect(output.trim()).not.toBe(hostname());
  });

  it("cannot write the host filesystem; only its work dir, /tmp and /run are writable, within its disk limit", async () => {
    const { output } = await run(
      "for f in /etc/jobworker-probe /usr/jobworker-probe /jobworker-probe /var/tmp/jobworker-probe; do touch $f 2>/dev/null && echo wrote $f; done; " +
        "touch ./mine && echo wrote work; touch /tmp/mine && echo wrote tmp; touch /run/mine && echo wrote run; " +
        "df -k /tmp | tail -1 | awk '{print $2}'; pwd; echo $HOME",
      { limits: { diskBytes: 64 * 2 ** 20 } },
    );
    expect(output).toBe("wrote work\nwrote tmp\nwrote run\n65536\n/work\n/work\n");
    await expect(stat("/etc/jobworker-probe")).rejects.toThrow(/ENOENT/);
    await expect(stat("/usr/jobworker-probe")).rejects.toThrow(/ENOENT/);
  });

  it("sees only the system dirs of the host and the paths exposed to it: no /home, /root or /srv", async () => {
    const { output } = await run(`ls -A / | tr '\\n' ' '; echo; ls -A ${dirname(diskDir)}`);
    const [root, beside] = output.split("\n");
    const optional = ["lib32", "libx32", "lib64"];
    // The exposed directory's parents exist (empty but for the way to it): /var/tmp here, /mnt in the VM.
    const exposedTop = diskDir.split("/")[1] ?? "";
    const expected = [
      "bin",
      "dev",
      "etc",
      "lib",
      "opt",
      "proc",
      "run",
      "sbin",
      "sys",
      "tmp",
      "usr",
      "work",
      exposedTop,
    ];
    expect(
      root
        ?.trim()
        .split(" ")
        .filter((name) => !optional.includes(name))
        .sort(),
    ).toEqual(expected.sort());
    expect(beside).toBe(basename(diskDir));
  });

  it("runs as its own unprivileged uid with no capabilities, no_new_privs and seccomp", async () => {
    const { job, output } = await run(
      "id -u; id -g; id -G; grep -E '^(CapEff|CapBnd|CapPrm|NoNewPrivs|Seccomp):' /proc/self/status",
    );
    expect(job.uid).toBeGreaterThanOrEqual(200_000);
    expect(output).toBe(
      `${job.uid}\n${job.uid}\n${job.uid}\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n`,
    );
  });

  it("cannot create a user namespace, mount, or read the state directory", async () => {
    const { output } = await run(
      `unshare -U true 2>/dev/null || echo no-userns; unshare -r true 2>/dev/null || echo no-rootless-userns; ` +
        `mount -t tmpfs x /tmp 2>/dev/null || echo no-mount; ls ${temp.stateDir}/jobs 2>/dev/null || echo no-state`,
    );
    expect(output).toBe("no-userns\nno-rootless-userns\nno-mount\nno-state\n");
  });

  it("sees only its own cgroup, and cannot write to it", async () => {
    const { output } = await run(
      "cat /proc/self/cgroup | tail -1; ls -d /sys/fs/cgroup/*/ 2>/dev/null | wc -l; (echo 1 > /sys/fs/cgroup/cgroup.kill) 2>/dev/null || echo read-only",
    );
    expect(output).toBe("0::/\n0\nread-only\n");
  });

  it("two concurrent jobs cannot read each other's files or signal each other", async () => {
    const victim = await manager.start("alice", {
      command: "/bin/sh",
      args: ["-c", "echo secret > ./secret; chmod 644 ./secret; echo secret > /tmp/secret; echo ready; sleep 1000"],
    });
    await waitForOutput(manager, victim.id, "ready");
    const { output } = await run(
      "cat /work/secret /tmp/secret 2>/dev/null || echo no-read; for p in $(ls /proc | grep -E '^[0-9]+$'); do [ $p = $$ ] || kill -9 $p 2>/dev/null; done; echo done",
    );
    expect(output).toBe("no-read\ndone\n");
    expect(manager.get(victim.id, scope).state).toBe("running");
    // The victim's work dir lives in its own mount namespace: read it through one of its processes.
    const [victimPid] = await processesOfUid(victim.uid);
    expect(await readFile(`/proc/${victimPid}/root/work/secret`, "utf8")).toBe("secret\n");
    await manager.stop(victim.id, scope, { graceMs: 0 });
  });

  it("a memory hog ends OOM-killed", async () => {
    const { job } = await run("exec tail /dev/zero", { limits: { memoryBytes: 32 * 2 ** 20 } });
    expect(job).toMatchObject({ endReason: "oom_killed", signal: 9, oomKilled: true });
    expect(job.usage?.memoryPeakBytes).toBeGreaterThan(16 * 2 ** 20);
  });

  it("a fork bomb stops at the pids limit and the host is unaffected", async () => {
    const { job, output } = await run(
      "i=0; while [ $i -lt 200 ]; do sleep 1000 & i=$((i+1)); done 2>/dev/null; ls /proc | grep -cE '^[0-9]+$'",
      { limits: { maxPids: 20 } },
    );
    expect(Number(output.trim().split("\n").pop())).toBeLessThanOrEqual(20);
    expect(job.endReason).toBe("exited");
    expect(await processesOfUid(job.uid)).toEqual([]);
  });

  it("a CPU hog limited to 200 millicores gets about 20% of one core while it runs", async () => {
    const job = await manager.start("alice", {
      command: "/bin/sh",
      args: ["-c", "echo ready; while :; do :; done"],
      limits: { cpuMillicores: 200 },
    });
    await waitForOutput(manager, job.id, "ready");
    const { seconds, cpuSeconds } = await usageOver(temp.cgroupParent, job.id, 2000);
    await manager.stop(job.id, scope, { graceMs: 0 });
    const share = cpuSeconds / seconds;
    expect(share).toBeGreaterThan(0.12);
    expect(share).toBeLessThan(0.28);
  });

  it("direct writes at a 5 MB/s limit go at about 5 MB/s", async () => {
    // The work dir is memory: write to a host directory exposed read-write, on the state dir's disk.
    // The first dd spends the burst blkio's throttle lets through at once; the window sees the steady rate.
    const job = await manager.start("alice", {
      command: "/bin/sh",
      args: [
        "-c",
        "dd if=/dev/zero of=./burst bs=256K count=8 oflag=direct 2>/dev/null; echo ready; " +
          "dd if=/dev/zero of=./out bs=256K count=64 oflag=direct 2>&1 | tail -1",
      ],
      limits: { ioWriteBps: 5_000_000 },
      workingDirectory: diskDir,
    });
    await waitForOutput(manager, job.id, "ready");
    // 16 MiB at 5 MB/s take 3.4 s: the window ends well before the writes do.
    const { seconds, writtenBytes } = await usageOver(temp.cgroupParent, job.id, 2000);
    const ended = await manager.wait(job.id, scope);
    expect(ended.exitCode).toBe(0);
    expect((await collect(manager.openOutput(job.id, scope))).toString()).toMatch(/16777216 bytes/);
    const bytesPerSecond = writtenBytes / seconds;
    expect(bytesPerSecond).toBeGreaterThan(3_000_000);
    expect(bytesPerSecond).toBeLessThan(6_000_000);
  });

  it("after a stop nothing of the job remains: no process, no cgroup, no mount", async () => {
    const job: Job = await manager.start("alice", {
      command: "/bin/sh",
      args: ["-c", "sleep 1000 & echo ready; wait"],
    });
    await waitForOutput(manager, job.id, "ready");
    expect((await cgroupDirs(temp.cgroupParent)).some((dir) => dir.endsWith(job.id))).toBe(true);
    await manager.stop(job.id, scope, { graceMs: 0 });
    expect(await processesOfUid(job.uid)).toEqual([]);
    expect(await cgroupDirs(temp.cgroupParent)).toEqual([]);
    expect(await readFile("/proc/self/mountinfo", "utf8")).not.toContain(temp.stateDir);
  });

  it("a job cannot fill the disk through /tmp beyond its cap", async () => {
    const { output } = await run("dd if=/dev/zero of=/tmp/fill bs=1M count=100 2>&1 | grep -c 'No space left'", {
      limits: { diskBytes: 64 * 2 ** 20 },
    });
    expect(output.trim()).toBe("1");
  });

  it("keeps host files it may not read out of reach: a root-only file and the host's /proc/1/environ", async () => {
    const dir = await testTempDir("jobworker-private-");
    await writeFile(join(dir, "key"), "x", { mode: 0o600 });
    try {
      const { output } = await run(
        `cat ${dir}/key 2>/dev/null || echo denied; cat /proc/1/environ 2>/dev/null | head -c 1 | wc -c`,
      );
      expect(output).toBe("denied\n0\n");
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

/**
 * What a running job's cgroup counted during a window of `windowMs`, and how
 * long the window really was: a rate that leaves out start-up and teardown,
 * whatever the load on the host makes them cost. The wait is the measurement's
 * window, not a wait for an event.
 */
async function usageOver(cgroupParent: string, id: string, windowMs: number) {
  const cgroup = (await CgroupRoot.open(cgroupParent)).attach(id);
  const sample = async (): Promise<[number, ResourceUsage]> => [performance.now(), await cgroup.limits.usage()];
  const [startedAt, before] = await sample();
  await delay(windowMs);
  const [endedAt, after] = await sample();
  return {
    seconds: (endedAt - startedAt) / 1000,
    cpuSeconds: (after.cpuTimeMicros - before.cpuTimeMicros) / 1e6,
    writtenBytes: after.ioWriteBytes - before.ioWriteBytes,
  };
}
