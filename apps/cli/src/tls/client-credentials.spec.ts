import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Authority, createAuthority, issue, writePair } from "@jobworker/dev-pki";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliError } from "../cli-error.js";
import { loadClientCredentials } from "./client-credentials.js";

const DAY_MS = 86_400_000;

describe("the client's own certificate, checked before connecting", () => {
  let dir: string;
  let ca: Authority;
  const file = (name: string) => join(dir, name);
  const failure = (settings: { cert: string; key: string; ca: string }): CliError => {
    try {
      loadClientCredentials(settings);
    } catch (error) {
      if (error instanceof CliError) return error;
      throw error;
    }
    throw new Error("the credentials were accepted");
  };

  beforeAll(async () => {
    dir = await mkdtemp("/var/tmp/jobworker-test-credentials-");
    ca = await createAuthority("test CA");
    const other = await createAuthority("other CA");
    await writeFile(file("ca.crt"), ca.cert);
    const client = (options: { notBefore?: Date; notAfter?: Date } = {}) =>
      issue(ca, { commonName: "alice", organizationalUnits: ["user"], usage: "client", ...options });
    await writePair(dir, "alice", await client());
    await writePair(dir, "bob", await client());
    await writePair(dir, "expired", await client({ notBefore: new Date(2020, 0, 1), notAfter: new Date(2021, 0, 1) }));
    await writePair(
      dir,
      "future",
      await client({ notBefore: new Date(Date.now() + 10 * DAY_MS), notAfter: new Date(Date.now() + 20 * DAY_MS) }),
    );
    await writePair(dir, "stranger", await issue(other, { commonName: "eve", usage: "client" }));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("passes a valid certificate with its key, issued by the CA given", () => {
    const credentials = loadClientCredentials({ cert: file("alice.crt"), key: file("alice.key"), ca: file("ca.crt") });
    expect(credentials.cert.toString()).toContain("BEGIN CERTIFICATE");
  });

  it("names an expired certificate and when it expired", () => {
    const error = failure({ cert: file("expired.crt"), key: file("expired.key"), ca: file("ca.crt") });
    expect([error.code, error.message]).toEqual([
      "JW_ERR_TLS",
      `the client certificate ${file("expired.crt")} expired on 2021-01-01T00:00:00.000Z: ask the server's operator for a new one`,
    ]);
  });

  it("names a certificate that is not valid yet, and points at the clock", () => {
    const error = failure({ cert: file("future.crt"), key: file("future.key"), ca: file("ca.crt") });
    expect(error.code).toBe("JW_ERR_TLS");
    expect(error.message).toMatch(
      new RegExp(
        `^the client certificate ${file("future.crt")} is not valid until \\S+Z: check this machine's clock, or use a certificate valid now$`,
      ),
    );
  });

  it("names a key that belongs to another certificate", () => {
    const error = failure({ cert: file("alice.crt"), key: file("bob.key"), ca: file("ca.crt") });
    expect([error.code, error.message]).toEqual([
      "JW_ERR_CREDENTIALS",
      `the key ${file("bob.key")} does not belong to the client certificate ${file("alice.crt")}: pass the key made with that certificate (--key)`,
    ]);
  });

  it("names a certificate the configured CA did not issue, which the server would refuse", () => {
    const error = failure({ cert: file("stranger.crt"), key: file("stranger.key"), ca: file("ca.crt") });
    expect([error.code, error.message]).toEqual([
      "JW_ERR_TLS",
      `the client certificate ${file("stranger.crt")} (issuer CN=other CA) was not issued by the CA in ${file("ca.crt")}, so the server will refuse it: use a certificate from the server's CA, or add the CA that issued it to ${file("ca.crt")}`,
    ]);
  });

  it("names a file that is missing, or that holds no certificate or key", () => {
    expect(failure({ cert: file("nope.crt"), key: file("alice.key"), ca: file("ca.crt") }).message).toBe(
      `cannot read the client certificate ${file("nope.crt")} (ENOENT): pass --cert, or add a context with 'runjob context add'`,
    );
    expect(failure({ cert: file("alice.key"), key: file("alice.key"), ca: file("ca.crt") }).message).toBe(
      `${file("alice.key")} is not a PEM certificate: pass the client certificate file (-----BEGIN CERTIFICATE-----) as --cert`,
    );
    expect(failure({ cert: file("alice.crt"), key: file("alice.crt"), ca: file("ca.crt") }).message).toBe(
      `${file("alice.crt")} is not a PEM private key (or it is encrypted): pass the unencrypted key file as --key`,
    );
  });
});
