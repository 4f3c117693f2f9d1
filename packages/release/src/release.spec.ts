import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readlink, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { EndReason, JobState } from "@jobworker/proto";
import { ServerProcess } from "@jobworker/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INSTALLED } from "./paths.js";
import { buildRelease, type Release } from "./release.js";
import { TARBALL_MEMBERS } from "./tarball.js";

/** Building compresses a 120 MB runtime twice: slow on a loaded machine. */
const BUILD_TIMEOUT_MS = 600_000;

/** How each artifact is unpacked into an empty root, as an operator would. */
const EXTRACT: Record<"deb" | "tarball", (artifact: string, root: string) => void> = {
  deb: (deb, root) => execFileSync("dpkg", ["-x", deb, root]),
  tarball: (tarball, root) => execFileSync("tar", ["-xzf", tarball, "-C", root]),
};

describe("the release artifacts", () => {
  let out: string;
  let release: Release;

  beforeAll(async () => {
    out = await mkdtemp("/var/tmp/jobworker-test-release-");
    release = await buildRelease(out);
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it("the .deb depends only on Debian's C and C++ runtime libraries, and keeps its config as a conffile", () => {
    const field = (name: string) => execFileSync("dpkg-deb", ["-f", release.deb, name], { encoding: "utf8" }).trim();
    expect(field("Package")).toBe("jobworker");
    expect(field("Version")).toBe(release.version);
    expect(field("Depends")).toMatch(/^libc6 \(>= 2\.\d+\), libstdc\+\+6 \(>= 5\), libgcc-s1 \| libgcc1$/);
    const control = execFileSync("dpkg-deb", ["-I", release.deb], { encoding: "utf8" });
    for (const script of ["postinst", "prerm", "postrm", "conffiles"]) expect(control).toContain(script);
    const conffiles = execFileSync("sh", ["-c", `dpkg-deb --ctrl-tarfile '${release.deb}' | tar -xO ./conffiles`], {
      encoding: "utf8",
    });
    expect(conffiles).toBe("/etc/jobworker/jobworker.env\n");
  });

  it("the tarball holds only jobworker's own paths, never a directory the host has (/, /usr, /lib)", () => {
    const members = execFileSync("tar", ["-tzf", release.tarball], { encoding: "utf8" }).trim().split("\n");
    expect(
      members.filter((member) => !TARBALL_MEMBERS.some((path) => member === path || member.startsWith(`${path}/`))),
    ).toEqual([]);
    expect(members).toContain(INSTALLED.bundle);
  });

  it("the bundled server imports nothing but Node's built-ins", async () => {
    const root = await mkdtemp("/var/tmp/jobworker-test-root-");
    try {
      EXTRACT.tarball(release.tarball, root);
      const bundle = await readFile(join(root, INSTALLED.bundle), "utf8");
      const specifiers = [...bundle.matchAll(/(?:^import .* from |\bimport\(|\brequire\()\s*["']([^"']+)["']/gm)].map(
        (match) => match[1] ?? "",
      );
      expect(specifiers.length).toBeGreaterThan(0);
      expect(specifiers.filter((specifier) => !specifier.startsWith("node:") && !isBuiltin(specifier))).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  describe.each(["deb", "tarball"] as const)("extracted from the %s into an empty root", (kind) => {
    let root: string;
    let server: ServerProcess | undefined;

    beforeAll(async () => {
      root = await mkdtemp(`/var/tmp/jobworker-test-root-${kind}-`);
      EXTRACT[kind](kind === "deb" ? release.deb : release.tarball, root);
    });

    afterAll(async () => {
      await server?.dispose();
      await rm(root, { recursive: true, force: true });
    });

    it("holds the wrapper, the private Node runtime, the server, the launcher, the unit, the config and a 0700 state dir", async () => {
      const mode = async (path: string) => (await stat(join(root, path))).mode & 0o777;
      expect(await mode(INSTALLED.wrapper)).toBe(0o755);
      expect(await mode(INSTALLED.node)).toBe(0o755);
      expect(await mode(INSTALLED.launcher)).toBe(0o755);
      expect(await mode(INSTALLED.bundle)).toBe(0o644);
      expect(await mode(INSTALLED.stateDir)).toBe(0o700);
      const unit = await readFile(join(root, INSTALLED.unit), "utf8");
      expect(unit).toMatch(/^ExecStart=\/usr\/bin\/jobworker-server$/m);
      expect(unit).toMatch(/^EnvironmentFile=\/etc\/jobworker\/jobworker\.env$/m);
      expect(unit).toMatch(/^ConditionPathExists=\/etc\/jobworker\/server\.key$/m);
      const config = await readFile(join(root, INSTALLED.envFile), "utf8");
      expect(config).toMatch(/^JOBWORKER_TLS_CERT=\/etc\/jobworker\/server\.crt$/m);
      expect(config).toMatch(/^# --max-jobs: /m);
      expect(config).toMatch(/^#JOBWORKER_MAX_JOBS=1000$/m);
      expect(existsSync(join(root, INSTALLED.docDir, "operations.md"))).toBe(true);
    });

    it("runs the server from there on its own Node, with no node_modules in reach, and runs a job through it", async () => {
      // Nothing between the root and / may hold a node_modules the server could fall back on.
      for (let dir = root; dir !== "/"; dir = dirname(dir)) expect(existsSync(join(dir, "node_modules"))).toBe(false);
      server = await ServerProcess.start({
        executable: { path: join(root, INSTALLED.wrapper), cwd: root, env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } },
      });
      const serverPid = server.child.pid ?? 0;
      // The wrapper execs the private runtime: the server process is that binary.
      expect(await readlink(`/proc/${serverPid}/exe`)).toBe(join(root, INSTALLED.node));
      const alice = await server.client("alice");
      const { job } = await alice.startJob({ command: "/bin/sh", args: ["-c", "echo packaged; exit 7"] });
      const ended = (await alice.waitJob({ id: job?.id ?? "" })).job;
      expect(ended?.exitCode).toBe(7);
      let output = "";
      for await (const chunk of alice.streamOutput({ id: job?.id ?? "" })) output += Buffer.from(chunk.data).toString();
      expect(output).toBe("packaged\n");
    });

    it("the packaged pki command makes a CA and issues a user certificate", async () => {
      const ca = join(root, "admin-ca");
      const env = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
      const run = (args: string[]) =>
        execFileSync(join(root, INSTALLED.wrapper), ["pki", ...args, "--dir", ca], {
          env,
          cwd: root,
          encoding: "utf8",
        });
      run(["init"]);
      expect(JSON.parse(run(["issue", "--name", "alice", "--role", "user", "--json"]))).toMatchObject({
        role: "user",
        subject: "OU=user, CN=alice",
      });
      expect((await stat(join(ca, "ca.key"))).mode & 0o777).toBe(0o600);
    });

    it("a job running when the packaged server restarts (as on an upgrade) is re-adopted", async () => {
      if (!server) throw new Error("the server of the previous test did not start");
      const alice = await server.client("alice");
      const id = (await alice.startJob({ command: "sleep", args: ["1000"] })).job?.id ?? "";
      expect(await server.kill("SIGTERM")).toBe(0);
      await server.restart();
      const again = await server.client("alice");
      expect((await again.getJob({ id })).job?.state).toBe(JobState.RUNNING);
      expect((await again.stopJob({ id })).job?.endReason).toBe(EndReason.STOPPED);
    });
  });
});

function isBuiltin(specifier: string): boolean {
  return (process.getBuiltinModule?.("node:module")?.builtinModules ?? []).includes(specifier);
}
