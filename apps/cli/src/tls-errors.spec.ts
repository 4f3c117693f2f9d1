import { readFile, writeFile } from "node:fs/promises";
import { createSecureServer, type Http2SecureServer } from "node:http2";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { type Authority, createAuthority, issue, writePair } from "@jobworker/dev-pki";
import { ServerProcess } from "@jobworker/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runjob } from "./testing/cli-harness.js";

const needsRoot = process.getuid?.() !== 0;

describe.skipIf(needsRoot)("TLS failures name their cause and what to do (needs root: a real server)", () => {
  let server: ServerProcess;
  /** A bare HTTP/2 TLS server whose certificate has a problem; the client fails before any RPC. */
  let badServer: Http2SecureServer;
  let otherCa: Authority;
  const file = (name: string) => join(server.certs, name);
  const cli = (env: NodeJS.ProcessEnv, args = ["list"]) => runjob(server, args, { env });

  beforeAll(async () => {
    server = await ServerProcess.start();
    // A second CA, and a client certificate from it: the jobworker server does not trust it.
    otherCa = await createAuthority("other CA");
    await writePair(
      server.certs,
      "stranger",
      await issue(otherCa, { commonName: "alice", organizationalUnits: ["user"], usage: "client" }),
    );
    // A CA file holding both, so the client's own check (issued by a CA it knows) passes and the server decides.
    await writeFile(file("both-ca.crt"), `${await readFile(file("ca.crt"), "utf8")}\n${otherCa.cert}`);
    await writeFile(file("other-ca.crt"), otherCa.cert);
  });

  afterAll(async () => {
    await new Promise((resolve) => (badServer ? badServer.close(resolve) : resolve(undefined)));
    try {
      expect(await server.kill("SIGTERM")).toBe(0);
    } finally {
      await server.dispose();
    }
  });

  /** Serves HTTP/2 over TLS on an ephemeral port with a certificate `issuer` issued (expired, if asked). */
  async function serveWith(issuer: Authority, expired: boolean): Promise<number> {
    await new Promise((resolve) => (badServer ? badServer.close(resolve) : resolve(undefined)));
    const pair = await issue(issuer, {
      commonName: "localhost",
      usage: "server",
      ...(expired ? { notBefore: new Date(2020, 0, 1), notAfter: new Date(2021, 0, 1) } : {}),
    });
    badServer = createSecureServer({ cert: pair.cert, key: pair.key, minVersion: "TLSv1.3" });
    await new Promise<void>((resolve) => badServer.listen(0, "127.0.0.1", resolve));
    return (badServer.address() as AddressInfo).port;
  }

  it("the server's refusal of the client certificate is named as such, not as a cancelled stream", async () => {
    const refused = await cli({
      RUNJOB_CERT: file("stranger.crt"),
      RUNJOB_KEY: file("stranger.key"),
      RUNJOB_CA: file("both-ca.crt"),
    });
    expect([refused.code, refused.stderr]).toEqual([
      125,
      `runjob: the server at localhost:${server.port} did not accept this client certificate (unknown CA, expired or revoked): ${file("stranger.crt")} (OU=user, CN=alice) is not trusted there; ask the server's operator for a certificate it trusts, or pick another context (-c) [JW_ERR_TLS]\n`,
    ]);
    // A command that reconnects after a lost connection (logs -f, for up to --reconnect) does not retry a refusal.
    const started = performance.now();
    const followed = await cli(
      { RUNJOB_CERT: file("stranger.crt"), RUNJOB_KEY: file("stranger.key"), RUNJOB_CA: file("both-ca.crt") },
      ["logs", "-f", "--reconnect", "10m", "00000000-0000-4000-8000-000000000000"],
    );
    expect([followed.code, followed.stderr]).toEqual([125, refused.stderr]);
    expect(performance.now() - started).toBeLessThan(60_000);
  });

  it("a server certificate from a CA the client does not know names the CA file to fix", async () => {
    const unknown = await cli({
      RUNJOB_CERT: file("stranger.crt"),
      RUNJOB_KEY: file("stranger.key"),
      RUNJOB_CA: file("other-ca.crt"),
    });
    expect([unknown.code, unknown.stderr]).toEqual([
      125,
      `runjob: the server's certificate at localhost:${server.port} was not issued by the CA in ${file("other-ca.crt")} (SELF_SIGNED_CERT_IN_CHAIN): pass the CA that issued the server's certificate as --ca, or pick the context made for this server (-c) [JW_ERR_TLS]\n`,
    ]);
  });

  it("a server certificate that does not name the host says which names it has", async () => {
    const mismatch = await cli({ RUNJOB_SERVER: `[::ffff:127.0.0.1]:${server.port}` });
    expect([mismatch.code, mismatch.stderr]).toEqual([
      125,
      "runjob: the server's certificate is not valid for the name ::ffff:7f00:1 (it names DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1): connect with one of those names (--server), or ask its operator for a certificate that names ::ffff:7f00:1 [JW_ERR_TLS]\n",
    ]);
  });

  it("an expired server certificate is named as the operator's to renew", async () => {
    const port = await serveWith(otherCa, true);
    const expired = await cli({
      RUNJOB_SERVER: `localhost:${port}`,
      RUNJOB_CERT: file("stranger.crt"),
      RUNJOB_KEY: file("stranger.key"),
      RUNJOB_CA: file("other-ca.crt"),
    });
    expect([expired.code, expired.stderr]).toEqual([
      125,
      `runjob: the server's certificate at localhost:${port} has expired: its operator must renew it; nothing on this side can fix that [JW_ERR_TLS]\n`,
    ]);
  });
});
