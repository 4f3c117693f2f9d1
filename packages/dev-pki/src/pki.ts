// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto);

type CryptoKeyPair = webcrypto.CryptoKeyPair;
type CryptoKey = webcrypto.CryptoKey;

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A PEM certificate with its PEM (PKCS#8) private key. */
export interface Issued {
  cert: string;
  key: string;
}

/** A certificate authority that can issue more certificates. */
export interface Authority extends Issued {
  certificate: x509.X509Certificate;
  keys: CryptoKeyPair;
}

export interface IssueOptions {
  /** Common name: the identity jobworker reads. */
  commonName: string;
  /** Organizational units: jobworker reads the role from here. */
  organizationalUnits?: string[];
  /** serverAuth certificates get the localhost SANs. */
  usage: "server" | "client";
  notBefore?: Date;
  notAfter?: Date;
}

/** Creates a self-signed ECDSA P-256 CA. */
export async function createAuthority(commonName: string): Promise<Authority> {
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: new x509.Name([{ CN: [commonName] }]),
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: new Date(Date.now() + 3650 * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate, keys, cert: certificate.toString("pem"), key: await exportKey(keys.privateKey) };
}

/** Issues a server or client certificate signed by `authority`. */
export async function issue(authority: Authority, options: IssueOptions): Promise<Issued> {
  const keys = await generateKeys();
  const name: Record<string, string[]> = { CN: [options.commonName] };
  const units = options.organizationalUnits ?? [];
  const subject = new x509.Name([...units.map((unit) => ({ OU: [unit] })), name]);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([
      options.usage === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
    ]),
    await x509.AuthorityKeyIdentifierExtension.create(authority.certificate),
  ];
  if (options.usage === "server") {
    extensions.push(
      new x509.SubjectAlternativeNameExtension([
        { type: "dns", value: "localhost" },
        { type: "ip", value: "127.0.0.1" },
        { type: "ip", value: "::1" },
      ]),
    );
  }
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: authority.certificate.subject,
    notBefore: options.notBefore ?? new Date(Date.now() - DAY_MS),
    notAfter: options.notAfter ?? new Date(Date.now() + 825 * DAY_MS),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: authority.keys.privateKey,
    extensions,
  });
  return { cert: certificate.toString("pem"), key: await exportKey(keys.privateKey) };
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"])) as CryptoKeyPair;
}

async function exportKey(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join("\n")}\n-----END PRIVATE KEY-----\n`;
}

function randomSerial(): string {
  // Positive 16-byte serial: clear the top bit.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString("hex");
}
