import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const SERVER_BIN = new URL("../../bin/jobworker-server.js", import.meta.url).pathname;

/** Runs `jobworker-server pki …` as an admin would, and returns its exit code and output. */
function pki(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SERVER_BIN, "pki", ...args], (error, stdout, stderr) => {
      resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
    });
  });
}

describe("jobworker-server pki", () => {
  let dir: string;
  let ca: string;

  beforeAll(async () => {
    dir = await mkdtemp("/var/tmp/jobworker-test-pki-cmd-");
    ca = join(dir, "ca");
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("init makes a CA whose directory is 0700 and key 0600, and refuses to make a second over it", async () => {
    const made = await pki(["init", "--dir", ca, "--json"]);
    expect(made.code).toBe(0);
    expect(JSON.parse(made.stdout)).toMatchObject({ subject: "CN=jobworker CA" });
    expect((await stat(ca)).mode & 0o777).toBe(0o700);
    expect((await stat(join(ca, "ca.key"))).mode & 0o777).toBe(0o600);
    expect(new X509Certificate(await readFile(join(ca, "ca.crt"))).ca).toBe(true);
    const again = await pki(["init", "--dir", ca]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists: a second init would orphan/);
  });

  it("issue --name alice --role user --days 90 writes a client pair the CA verifies, key 0600", async () => {
    const out = join(dir, "alice");
    const issued = await pki(["issue", "--dir", ca, "--name", "alice", "--role", "user", "--days", "90", "--out", out]);
    expect(issued.code).toBe(0);
    const cert = new X509Certificate(await readFile(join(out, "alice.crt")));
    expect(cert.subject).toBe("OU=user\nCN=alice");
    expect(cert.checkIssued(new X509Certificate(await readFile(join(ca, "ca.crt"))))).toBe(true);
    const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89);
    expect(days).toBeLessThanOrEqual(90);
    expect((await stat(join(out, "alice.key"))).mode & 0o777).toBe(0o600);
    expect(
      cert.checkPrivateKey((await import("node:crypto")).createPrivateKey(await readFile(join(out, "alice.key")))),
    ).toBe(true);
  });

  it("issue --server carries exactly the DNS names and IPs asked for, and the fleet peer role (OU jobworker-server, clientAuth too)", async () => {
    const issued = await pki([
      "issue",
      "--dir",
      ca,
      "--server",
      "--dns",
      "jobs.example.net",
      "--ip",
      "10.1.2.3",
      "--json",
    ]);
    expect(issued.code).toBe(0);
    const cert = new X509Certificate(await readFile(JSON.parse(issued.stdout).cert));
    expect(cert.subjectAltName).toBe("DNS:jobs.example.net, IP Address:10.1.2.3");
    expect(cert.subject).toBe("OU=jobworker-server\nCN=jobs.example.net");
    // TLS Web Server and Client Authentication: fleet servers present it to each other as clients.
    expect(cert.toLegacyObject().ext_key_usage).toEqual(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
  });

  it("revoke --name lists the serial in a CRL a TLS server loads", async () => {
    const revoked = await pki(["revoke", "--dir", ca, "--name", "alice", "--json"]);
    expect(revoked.code).toBe(0);
    const serial = new X509Certificate(await readFile(join(dir, "alice", "alice.crt"))).serialNumber;
    expect(JSON.parse(revoked.stdout).revoked).toEqual([serial]);
    const crl = await readFile(join(ca, "crl.pem"), "utf8");
    expect(crl).toMatch(/^-----BEGIN X509 CRL-----\n/);
    expect(() => createSecureContext({ crl })).not.toThrow();
    expect((await pki(["list", "--dir", ca])).stdout).toMatch(new RegExp(`${serial}\\s+user\\s+alice .*REVOKED`));
    const twice = await pki(["revoke", "--dir", ca, "--serial", serial]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/no unrevoked certificate/);
  });

  it.each([
    [["issue", "--name", "bob", "--role", "root"], /--role must be user or admin/],
    [["issue", "--name", "bob", "--role", "jobworker-server"], /--role must be user or admin/],
    [["issue", "--server"], /needs at least one --dns or --ip/],
    [["issue", "--name", "bob", "--role", "user", "--days", "0"], /days must be a whole number/],
    [["frobnicate"], /unknown command/],
  ])("a bad command line (%j) exits 2 and says what to do", async (args, message) => {
    const result = await pki([...args, "--dir", ca]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it("issue before init says to run init", async () => {
    const result = await pki(["issue", "--dir", join(dir, "nowhere"), "--name", "bob", "--role", "user"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/run 'jobworker-server pki init' first/);
  });
});
