import { execFileSync, spawnSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SOURCES } from "./paths.js";

const isRoot = process.getuid?.() === 0;

/**
 * Runs a maintainer script as dpkg would, as root, in a mount namespace of its
 * own where /etc, /run and /var/lib are the test's directories: the host's are
 * never touched. systemd cannot run here, so `systemctl` is a recorder that
 * logs each call (and answers is-active as told): what the script asks of
 * systemd is what is checked.
 */
async function runScript(
  host: string,
  script: "postinst" | "prerm" | "postrm",
  args: string[],
  { active = false }: { active?: boolean } = {},
): Promise<{ output: string; systemctl: string[] }> {
  const bin = join(host, "bin");
  await mkdir(bin, { recursive: true });
  await writeFile(
    join(bin, "systemctl"),
    `#!/bin/sh\necho "$*" >> ${join(host, "systemctl.log")}\n[ "$1" != is-active ] || exit ${active ? 0 : 3}\n`,
  );
  await chmod(join(bin, "systemctl"), 0o755);
  const mounts = ["etc", "run", "var/lib"]
    .map((dir) => `mount --bind ${join(host, dir.replace("/", "-"))} /${dir}`)
    .join(" && ");
  const result = spawnSync(
    "unshare",
    [
      "--mount",
      "--propagation",
      "private",
      "/bin/sh",
      "-c",
      `${mounts} && exec /bin/sh "$0" "$@"`,
      join(SOURCES.debian, script),
      ...args,
    ],
    { encoding: "utf8", env: { PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin` } },
  );
  if (result.status !== 0) throw new Error(`${script} exited ${result.status}: ${result.stderr}`);
  const log = await readFile(join(host, "systemctl.log"), "utf8").catch(() => "");
  return { output: result.stdout, systemctl: log.split("\n").filter(Boolean) };
}

describe.skipIf(!isRoot)("the .deb's maintainer scripts (need root for a mount namespace)", () => {
  let host: string;

  beforeEach(async () => {
    host = await mkdtemp("/var/tmp/jobworker-test-host-");
    for (const dir of ["etc", "run/systemd/system", "var-lib"]) await mkdir(join(host, dir), { recursive: true });
  });

  afterEach(async () => {
    await rm(host, { recursive: true, force: true });
  });

  const certs = async () => {
    await mkdir(join(host, "etc/jobworker"), { recursive: true });
    for (const file of ["server.crt", "server.key", "ca.crt"]) await writeFile(join(host, "etc/jobworker", file), "");
  };

  it("a first install without certificates enables nothing, says so, and makes the state dir 0700", async () => {
    const { output, systemctl } = await runScript(host, "postinst", ["configure", ""]);
    expect(output).toMatch(/installed, but NOT enabled: \/etc\/jobworker has no certificates yet/);
    expect(systemctl).toEqual(["daemon-reload"]);
    expect((await stat(join(host, "var-lib/jobworker"))).mode & 0o777).toBe(0o700);
  });

  it("a first install with the certificates in place enables and starts the service", async () => {
    await certs();
    const { systemctl } = await runScript(host, "postinst", ["configure", ""]);
    expect(systemctl).toEqual(["daemon-reload", "enable --now jobworker.service"]);
  });

  it("an upgrade restarts a running service (its jobs are re-adopted) and leaves a stopped one stopped", async () => {
    await certs();
    const running = await runScript(host, "postinst", ["configure", "0.0.9"], { active: true });
    expect(running.systemctl).toEqual([
      "daemon-reload",
      "is-active --quiet jobworker.service",
      "restart jobworker.service",
    ]);
    await rm(join(host, "systemctl.log"));
    const stopped = await runScript(host, "postinst", ["configure", "0.0.9"], { active: false });
    expect(stopped.systemctl).toEqual(["daemon-reload", "is-active --quiet jobworker.service"]);
  });

  it("prerm stops the service on removal but not on upgrade", async () => {
    expect((await runScript(host, "prerm", ["upgrade", "0.2.0"])).systemctl).toEqual([]);
    expect((await runScript(host, "prerm", ["remove"])).systemctl).toEqual(["disable --now jobworker.service"]);
  });

  it("without systemd running, postinst asks nothing of it", async () => {
    await rm(join(host, "run/systemd"), { recursive: true });
    await certs();
    const { output, systemctl } = await runScript(host, "postinst", ["configure", ""]);
    expect(systemctl).toEqual([]);
    expect(output).toMatch(/systemd is not running/);
  });

  it("every script is valid POSIX sh", () => {
    for (const script of ["postinst", "prerm", "postrm"]) {
      expect(() => execFileSync("/bin/sh", ["-n", join(SOURCES.debian, script)])).not.toThrow();
    }
  });
});
