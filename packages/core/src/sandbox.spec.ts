import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, stat, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobManager } from "./job-manager.js";
import { checkExposedPaths } from "./sandbox/filesystem-view.js";
import { checkUidRange } from "./sandbox/uid-range.js";
import { needsRoot, runScript, type TempManager, tempManager, testTempDir } from "./testing/temp-manager.js";

const alice = { owner: "alice" };
const MiB = 2 ** 20;

/** A python3 one-off inside the job (the host's /usr/bin/python3, seen read-only). */
const python = (code: string) => `python3 -c '${code.replaceAll("'", `'"'"'`)}'`;

describe.skipIf(needsRoot)("the sandbox against a hostile job (needs root: namespaces, mounts, seccomp)", () => {
  let temp: TempManager;
  let manager: JobManager;
  /** A host directory exposed read-only to jobs: test programs and a 0700 directory live here. */
  let exposed: string;

  beforeAll(async () => {
    exposed = await testTempDir("jobworker-exposed-");
    await chmod(exposed, 0o755);
    temp = await tempManager({ exposedPaths: [{ path: exposed, writable: false }] });
    manager = temp.manager;
  });
  afterAll(async () => {
    await temp.dispose();
    await rm(exposed, { recursive: true, force: true });
  });

  it("sees a minimal /dev of its own: no host device node, a private devpts", async () => {
    const { output } = await runScript(
      manager,
      "ls -A /dev | tr '\\n' ' '; echo; ls -A /dev/pts | tr '\\n' ' '; echo; " +
        "for d in fuse net/tun kvm vsock vda loop-control; do [ -e /dev/$d ] && echo has $d; done; " +
        python(
          "import os, pty; leader, follower = pty.openpty(); print(os.ttyname(follower)); os.write(leader, b'x'); print('pty ok')",
        ) +
        "; echo hi > /dev/null && head -c 4 /dev/zero | wc -c",
    );
    expect(output).toBe(
      "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero \nptmx \n/dev/pts/0\npty ok\n4\n",
    );
  });

  it("cannot reach a host unix socket, in /run or in /var/tmp", async () => {
    const servers: Server[] = [];
    let connections = 0;
    const paths = [`/run/jobworker-test-${process.pid}.sock`, join(await testTempDir("jobworker-sock-"), "s.sock")];
    try {
      for (const path of paths) {
        const server = createServer((socket) => {
          connections++;
          socket.destroy();
        });
        await new Promise<void>((resolve) => server.listen(path, resolve));
        await chmod(path, 0o666);
        servers.push(server);
      }
      const { output } = await runScript(
        manager,
        paths
          .map((path) =>
            python(
              `import socket\ns = socket.socket(socket.AF_UNIX)\ntry:\n  s.connect("${path}"); print("reached")\nexcept OSError as e:\n  print(e.strerror)`,
            ),
          )
          .join("; "),
      );
      expect(output).toBe("No such file or directory\nNo such file or directory\n");
      expect(connections).toBe(0);
    } finally {
      for (const server of servers) await new Promise((resolve) => server.close(resolve));
      await rm(paths[1] as string, { force: true });
      await rm(join(paths[1] as string, ".."), { recursive: true, force: true });
    }
  });

  it("may open only unix, inet, inet6 and netlink sockets: vsock and packet are refused", async () => {
    const { output } = await runScript(
      manager,
      python(
        "import socket\nfor family in (socket.AF_VSOCK, socket.AF_PACKET, socket.AF_INET, socket.AF_UNIX, socket.AF_NETLINK):\n" +
          "  try:\n    socket.socket(family, socket.SOCK_DGRAM if family == socket.AF_NETLINK else socket.SOCK_STREAM if family != socket.AF_PACKET else socket.SOCK_RAW).close(); print(family.name, 'ok')\n" +
          "  except OSError as e:\n    print(family.name, e.strerror)",
      ),
    );
    expect(output).toBe(
      "AF_VSOCK Address family not supported by protocol\nAF_PACKET Address family not supported by protocol\n" +
        "AF_INET ok\nAF_UNIX ok\nAF_NETLINK ok\n",
    );
  });

  it("cannot use io_uring, userfaultfd, a foreign personality or the 32-bit syscall table", async () => {
    // int 0x80 from a 64-bit process enters the i386 table: the filter must refuse it, not kill the job.
    const program = join(exposed, "int80");
    await writeFile(
      `${program}.c`,
      '#include <stdio.h>\nint main(void) { long r; __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory"); printf("int80 %ld\\n", r); return 0; }\n',
    );
    execFileSync("cc", ["-O0", "-o", program, `${program}.c`]);
    const { job, output } = await runScript(
      manager,
      `${python(
        "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n" +
          "for name, nr, args in (('io_uring_setup', 425, (8, 0)), ('userfaultfd', 323, (0,)), ('personality', 135, (8,))):\n" +
          "  r = libc.syscall(nr, *args); print(name, r, os.strerror(ctypes.get_errno()) if r < 0 else '')",
      )}; ${program}`,
    );
    expect(output).toBe(
      "io_uring_setup -1 Operation not permitted\nuserfaultfd -1 Operation not permitted\n" +
        "personality -1 Operation not permitted\nint80 -38\n",
    );
    expect(job).toMatchObject({ endReason: "exited", exitCode: 0 });
  });

  it("enters its working directory as its own uid: a directory inside a 0700 one is refused, uniformly", async () => {
    const secret = join(exposed, "secret");
    await mkdir(join(secret, "inside"), { recursive: true, mode: 0o755 });
    await chmod(secret, 0o700);
    const refusal = (path: string) =>
      manager.start("alice", { command: "/bin/true", workingDirectory: path }).catch((error: unknown) => error);
    const denied = await refusal(join(secret, "inside"));
    const missing = await refusal(join(exposed, "no-such-dir"));
    expect(denied).toMatchObject({ code: "invalid_argument" });
    // The same words whether the directory is missing or merely closed: no oracle for what exists.
    expect((denied as Error).message.replace(join(secret, "inside"), "DIR")).toBe(
      (missing as Error).message.replace(join(exposed, "no-such-dir"), "DIR"),
    );
    const outside = await refusal("/root");
    expect(outside).toMatchObject({
      code: "invalid_argument",
      message: expect.stringMatching(/outside the job's view/),
    });
    expect(manager.list(alice).filter((job) => job.state !== "ended")).toEqual([]);
  });

  it("its init keeps no capability and cannot be ptraced, read or usefully signalled by the job", async () => {
    const { job, output } = await runScript(
      manager,
      "grep -E '^(Uid|CapEff|CapPrm|CapBnd):' /proc/1/status; cat /proc/1/environ 2>/dev/null || echo no-environ; " +
        "ls /proc/1/fd 2>/dev/null || echo no-fds; kill -KILL 1; kill -STOP 1; echo alive",
    );
    expect(output).toBe(
      `Uid:\t${job.uid}\t${job.uid}\t${job.uid}\t${job.uid}\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n` +
        "CapBnd:\t0000000000000000\nno-environ\nno-fds\nalive\n",
    );
    expect(job).toMatchObject({ endReason: "exited", exitCode: 0 });
  });

  it("cannot write past its disk limit: write and fallocate get ENOSPC, and files stop at its inode cap", async () => {
    const { output } = await runScript(
      manager,
      "dd if=/dev/zero of=/work/fill bs=1M count=64 2>&1 | grep -o 'No space left on device'; rm /work/fill; " +
        "head -c 10M /dev/zero > /work/half; fallocate -l 10M /tmp/more 2>&1 | grep -o 'No space left on device'; " +
        "head -c 10M /dev/zero > /dev/shm/more 2>/dev/null || echo shm-full; df -k /work | tail -1 | awk '{print $2}'",
      { limits: { diskBytes: 16 * MiB } },
    );
    expect(output).toBe("No space left on device\nNo space left on device\nshm-full\n16384\n");
  });

  it("cannot create 200,000 files at the default disk limit", async () => {
    const { output } = await runScript(
      manager,
      python(
        "import os\nn = 0\ntry:\n  while n < 200000:\n    open(f'/work/{n}', 'w').close(); n += 1\nexcept OSError as e:\n  print(e.strerror)\nprint(n < 200000)",
      ),
    );
    expect(output).toBe("No space left on device\nTrue\n");
  });

  it("cannot grow its output past its disk limit, by writing or by allocating blocks past its end", async () => {
    const { job, output } = await runScript(
      manager,
      `${python(
        "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n" +
          "r = libc.fallocate(1, 1, ctypes.c_long(0), ctypes.c_long(64 << 20)); e = ctypes.get_errno()\n" +
          "r2 = libc.fallocate(1, 0, ctypes.c_long(0), ctypes.c_long(64 << 20)); e2 = ctypes.get_errno()\n" +
          "os.write(1, f'keep-size {r} {os.strerror(e)}\\nplain {r2} {os.strerror(e2)}\\n'.encode())",
      )}; head -c 32M /dev/zero; echo unreachable >&2`,
      { limits: { diskBytes: 8 * MiB } },
    );
    expect(output.split("\n").slice(0, 2)).toEqual(["keep-size -1 Operation not supported", "plain -1 File too large"]);
    expect(job.endReason).toBe("output_limit");
    const log = await stat(join(temp.stateDir, "jobs", job.id, "output.log"));
    expect(log.size).toBeLessThanOrEqual(8 * MiB + 1);
    expect(log.blocks * 512).toBeLessThanOrEqual(8 * MiB + MiB);
  });

  it("cannot rewrite output it has already written", async () => {
    const { job, output } = await runScript(
      manager,
      "printf FIRST; " +
        python(
          "import fcntl, os\n" +
            "def attempt(name, f):\n  try:\n    f(); return name + ' done'\n  except OSError as e:\n    return name + ' ' + e.strerror\n" +
            "results = [attempt('clear-append', lambda: fcntl.fcntl(1, fcntl.F_SETFL, fcntl.fcntl(1, fcntl.F_GETFL) & ~os.O_APPEND)),\n" +
            "  attempt('truncate', lambda: os.ftruncate(1, 0)),\n" +
            "  attempt('reopen', lambda: os.open('/proc/self/fd/1', os.O_WRONLY)),\n" +
            "  attempt('noappend', lambda: os.pwritev(1, [b'Y'], 0, 0x20)),\n" +
            "  attempt('pwrite', lambda: os.pwrite(1, b'X', 0))]\n" +
            "os.write(1, ('\\n' + '\\n'.join(results) + '\\n').encode())",
        ),
    );
    expect(job.exitCode).toBe(0);
    const lines = output.split("\n");
    // On Linux a pwrite to an O_APPEND file appends: its byte lands at the end, never at offset 0.
    expect(output.startsWith("FIRST")).toBe(true);
    expect(lines.slice(1, 3)).toEqual(["clear-append Operation not permitted", "truncate Operation not permitted"]);
    // Reopening by path fails either way: the file is the server's (0600), and append-only refuses a non-append open.
    expect(lines[3]).toMatch(/^reopen (Operation not permitted|Permission denied)$/);
    // RWF_NOAPPEND: refused on an append-only file; kernels before 6.9 do not know the flag.
    expect(lines[4]).toMatch(/^noappend (Operation not permitted|Operation not supported)$/);
    expect(lines[5]).toBe("pwrite done");
    // Once the job has ended its output is an ordinary file again, which the server can delete.
    await manager.delete(job.id, alice);
  });
});

describe("the job uid range", () => {
  it("refuses a range that holds root, the no-id value or a host user or group", async () => {
    const dir = await mkdtemp(join("/var/tmp", "jobworker-accounts-"));
    try {
      const accountFiles = { passwd: join(dir, "passwd"), group: join(dir, "group") };
      await writeFile(accountFiles.passwd, "root:x:0:0::/root:/bin/sh\nbuilder:x:300123:300123::/home/b:/bin/sh\n");
      await writeFile(accountFiles.group, "root:x:0:\ndocker:x:250000:\n");
      expect(() => checkUidRange({ first: 0, count: 10 }, accountFiles)).toThrow(/start above 0/);
      expect(() => checkUidRange({ first: 2 ** 32 - 10, count: 10 }, accountFiles)).toThrow(/end below 4294967295/);
      expect(() => checkUidRange({ first: 300_000, count: 1000 }, accountFiles)).toThrow(/user builder \(300123\)/);
      expect(() => checkUidRange({ first: 200_000, count: 65_536 }, accountFiles)).toThrow(/group docker \(250000\)/);
      expect(() => checkUidRange({ first: 100_000, count: 1000 }, accountFiles)).not.toThrow();
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

describe("the paths an operator exposes", () => {
  it("must exist as real paths, clear of the state dir and of the job's own dirs; parents come first", async () => {
    const dir = await mkdtemp(join("/var/tmp", "jobworker-expose-"));
    try {
      await mkdir(join(dir, "data", "out"), { recursive: true });
      await symlink(join(dir, "data"), join(dir, "link"));
      const state = join(dir, "state");
      const ro = (path: string) => ({ path, writable: false });
      expect(() => checkExposedPaths([ro(join(dir, "missing"))], state)).toThrow(/cannot be read/);
      expect(() => checkExposedPaths([ro(join(dir, "link"))], state)).toThrow(/must be given as its real path/);
      expect(() => checkExposedPaths([ro("/")], state)).toThrow(/root cannot be exposed/);
      expect(() => checkExposedPaths([ro("/tmp")], state)).toThrow(/overlaps the job's own \/tmp/);
      expect(() => checkExposedPaths([ro(dir)], join(dir, "data"))).toThrow(/overlaps the state dir/);
      const sorted = checkExposedPaths(
        [{ path: join(dir, "data", "out"), writable: true }, ro(join(dir, "data"))],
        state,
      );
      expect(sorted.map((entry) => entry.path)).toEqual([join(dir, "data"), join(dir, "data", "out")]);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
