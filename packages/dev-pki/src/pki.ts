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
  /** The certificate's serial number, in hex (what a CRL lists). */
  serial?: string;
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
  /** serverAuth certificates get the SANs below, or else the localhost ones. */
  usage: "server" | "client";
  /**
   * A server certificate that fleet servers accept from each other: also valid
   * for clientAuth, with the OU PEER_UNIT (which no user certificate carries).
   */
  peer?: boolean;
  /** DNS names a server certificate is valid for (default, with no IP either: localhost). */
  dnsNames?: string[];
  /** IP addresses a server certificate is valid for (default, with no DNS name either: 127.0.0.1 and ::1). */
  ipAddresses?: string[];
  notBefore?: Date;
  notAfter?: Date;
}

/** The OU of a fleet server's own certificate: the role servers recognise each other by. */
export const PEER_UNIT = "jobworker-server";

/** The localhost SANs a server certificate gets when none are named. */
const LOCALHOST_SANS = { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"] };

/** Creates a self-signed ECDSA P-256 CA, valid for `days` (default ten years). */
export async function createAuthority(commonName: string, days = 3650): Promise<Authority> {
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: new x509.Name([{ CN: [commonName] }]),
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: new Date(Date.now() + days * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate, keys, cert: `${certificate.toString("pem")}\n`, key: await exportKey(keys.privateKey) };
}

/** An authority from its PEM certificate and PEM (PKCS#8) private key, as createAuthority wrote them. */
export async function loadAuthority(cert: string, key: string): Promise<Authority> {
  const certificate = new x509.X509Certificate(cert);
  const der = Buffer.from(key.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  const privateKey = await webcrypto.subtle.importKey("pkcs8", der, ALGORITHM, true, ["sign"]);
  const publicKey = await certificate.publicKey.export(ALGORITHM, ["verify"], webcrypto);
  return { certificate, keys: { privateKey, publicKey }, cert, key };
}

/** A revoked certificate: its serial (hex) and when it was revoked. */
export interface Revocation {
  serial: string;
  revokedAt: Date;
}

/** A PEM CRL signed by `authority` listing `revoked`, valid until `nextUpdate`. */
export async function createCrl(
  authority: Authority,
  revoked: readonly Revocation[],
  nextUpdate: Date,
): Promise<string> {
  const crl = await x509.X509CrlGenerator.create({
    issuer: authority.certificate.subject,
    thisUpdate: new Date(),
    nextUpdate,
    signingAlgorithm: ALGORITHM,
    signingKey: authority.keys.privateKey,
    // The invalidity date keeps each entry's extension list non-empty: @peculiar/x509 would
    // otherwise encode an empty one, which OpenSSL refuses to parse.
    entries: revoked.map((entry) => ({
      serialNumber: entry.serial,
      revocationDate: entry.revokedAt,
      invalidity: entry.revokedAt,
    })),
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(authority.certificate)],
  });
  // OpenSSL (and so Node) reads only the "X509 CRL" PEM label.
  const lines =
    Buffer.from(crl.rawData)
      .toString("base64")
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN X509 CRL-----\n${lines.join("\n")}\n-----END X509 CRL-----\n`;
}

/** Issues a server or client certificate signed by `authority`. */
export async function issue(authority: Authority, options: IssueOptions): Promise<Issued> {
  const keys = await generateKeys();
  const name: Record<string, string[]> = { CN: [options.commonName] };
  const units = options.peer ? [PEER_UNIT] : (options.organizationalUnits ?? []);
  const subject = new x509.Name([...units.map((unit) => ({ OU: [unit] })), name]);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(
      options.usage === "server"
        ? options.peer
          ? [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]
          : [x509.ExtendedKeyUsage.serverAuth]
        : [x509.ExtendedKeyUsage.clientAuth],
    ),
    await x509.AuthorityKeyIdentifierExtension.create(authority.certificate),
  ];
  if (options.usage === "server") {
    const named = (options.dnsNames?.length ?? 0) + (options.ipAddresses?.length ?? 0) > 0;
    const { dnsNames = [], ipAddresses = [] } = named ? options : LOCALHOST_SANS;
    extensions.push(
      new x509.SubjectAlternativeNameExtension([
        ...dnsNames.map((value) => ({ type: "dns" as const, value })),
        ...ipAddresses.map((value) => ({ type: "ip" as const, value })),
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
  return {
    cert: `${certificate.toString("pem")}\n`,
    key: await exportKey(keys.privateKey),
    serial: certificate.serialNumber,
  };
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
