import { X509Certificate } from "node:crypto";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** One certificate the CA issued, as the index records it. */
export interface IssuedRecord {
  serial: string;
  name: string;
  /** The client's role (its OU), or "server". */
  role: "admin" | "user" | "server";
  notAfter: string;
  revokedAt?: string;
}

/** The files of a CA directory: the CA pair, its CRL and the index of what it issued. */
export class PkiStore {
  constructor(readonly dir: string) {}

  get caCert(): string {
    return join(this.dir, "ca.crt");
  }
  get caKey(): string {
    return join(this.dir, "ca.key");
  }
  get crl(): string {
    return join(this.dir, "crl.pem");
  }
  get index(): string {
    return join(this.dir, "index.json");
  }

  /** The directory, made 0700: it holds the CA's private key. */
  async create(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
  }

  async readIndex(): Promise<IssuedRecord[]> {
    try {
      const parsed: unknown = JSON.parse(await readFile(this.index, "utf8"));
      if (!Array.isArray(parsed)) throw new Error("not a JSON array");
      return parsed;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw new Error(`${this.index}: ${(error as Error).message}; restore it from a backup of the CA directory`);
    }
  }

  async writeIndex(records: readonly IssuedRecord[]): Promise<void> {
    await writeAtomically(this.index, `${JSON.stringify(records, null, 2)}\n`, 0o600);
  }
}

/**
 * Writes `path` through a temporary file and a rename, so a server watching it
 * never reads half a PEM; `mode` holds even when the file existed.
 */
export async function writeAtomically(path: string, text: string, mode: number): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, text, { mode });
  await chmod(temporary, mode);
  await rename(temporary, path);
}

/** The serial (upper-case hex, as openssl prints it) and expiry of a PEM certificate. */
export function describeCertificate(pem: string | Buffer): { serial: string; notAfter: string; subject: string } {
  const certificate = new X509Certificate(pem);
  return {
    serial: certificate.serialNumber.toUpperCase(),
    notAfter: new Date(certificate.validTo).toISOString(),
    subject: certificate.subject.replaceAll("\n", ", "),
  };
}
