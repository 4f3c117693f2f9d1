import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Authority, createAuthority, createCrl, type Issued, issue, type Revocation } from "@jobworker/dev-pki";

/** A CA of a test, with the server certificate and the client certificates it issued. */
export interface TestCa {
  ca: Authority;
  server: Issued;
  /** By name; "admin" (OU admin) is always there, the rest are users. */
  clients: Record<string, Issued>;
}

/** A CA named `name` with a localhost server certificate, `users` and an admin. */
export async function makeTestCa(name: string, users: readonly string[]): Promise<TestCa> {
  const ca = await createAuthority(name);
  const clients: Record<string, Issued> = {};
  for (const user of [...users, "admin"]) {
    const role = user === "admin" ? "admin" : "user";
    clients[user] = await issue(ca, { commonName: user, organizationalUnits: [role], usage: "client" });
  }
  return { ca, server: await issue(ca, { commonName: "localhost", usage: "server" }), clients };
}

/** Replaces a file as an operator's tooling would: a new file renamed over the old one. */
export async function replaceFile(path: string, text: string, mode = 0o644): Promise<void> {
  await writeFile(`${path}.new`, text, { mode });
  await rename(`${path}.new`, path);
}

/** A CRL of `pki`'s CA revoking `revoked`, valid for a day. */
export function testCrl(pki: TestCa, revoked: readonly Issued[] = []): Promise<string> {
  const entries: Revocation[] = revoked.map((issued) => ({ serial: issued.serial ?? "", revokedAt: new Date() }));
  return createCrl(pki.ca, entries, new Date(Date.now() + 86_400_000));
}

/**
 * Puts `pki` in place in a certs dir laid out as ServerProcess and the CLI
 * harness expect: ca.crt, server.crt/.key, crl.pem (revoking `revoked`), and
 * each client's `<name>.crt`/`.key`, one file at a time as an operator's
 * tooling would (a watching server may see a key before its certificate).
 */
export async function installTestCa(dir: string, pki: TestCa, revoked: readonly Issued[] = []): Promise<void> {
  for (const [name, pair] of Object.entries(pki.clients)) {
    await replaceFile(join(dir, `${name}.key`), pair.key, 0o600);
    await replaceFile(join(dir, `${name}.crt`), pair.cert);
  }
  await replaceFile(join(dir, "server.key"), pki.server.key, 0o600);
  await replaceFile(join(dir, "server.crt"), pki.server.cert);
  await replaceFile(join(dir, "ca.crt"), pki.ca.cert);
  await replaceFile(join(dir, "crl.pem"), await testCrl(pki, revoked));
}
