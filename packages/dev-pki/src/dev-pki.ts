import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createAuthority, type Issued, issue } from "./pki.js";

/** The identities of the development PKI: name -> organizational unit (role). */
export const DEV_CLIENTS = { alice: "user", bob: "user", admin: "admin" } as const;

/**
 * Writes the development PKI into `dir`: ca.crt, server.crt/.key (SANs
 * localhost, 127.0.0.1, ::1; also a fleet peer certificate) and a client pair per DEV_CLIENTS entry.
 * Private keys are mode 0600.
 */
export async function writeDevPki(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const ca = await createAuthority("jobworker dev CA");
  const written = [await writePem(dir, "ca.crt", ca.cert, 0o644)];
  written.push(
    ...(await writePair(dir, "server", await issue(ca, { commonName: "localhost", usage: "server", peer: true }))),
  );
  for (const [name, unit] of Object.entries(DEV_CLIENTS)) {
    const pair = await issue(ca, { commonName: name, organizationalUnits: [unit], usage: "client" });
    written.push(...(await writePair(dir, name, pair)));
  }
  return written;
}

/** Writes `<name>.crt` (0644) and `<name>.key` (0600). */
export async function writePair(dir: string, name: string, pair: Issued): Promise<string[]> {
  return [await writePem(dir, `${name}.crt`, pair.cert, 0o644), await writePem(dir, `${name}.key`, pair.key, 0o600)];
}

async function writePem(dir: string, file: string, pem: string, mode: number): Promise<string> {
  const path = join(dir, file);
  await writeFile(path, pem, { mode });
  await chmod(path, mode); // an existing file keeps its mode on writeFile
  return path;
}
