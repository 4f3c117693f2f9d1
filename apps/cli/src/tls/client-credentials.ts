import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { CliError } from "../cli-error.js";
import type { ConnectionSettings } from "../connection/settings.js";

/** The PEM bytes a TLS client needs, read and checked. */
export interface ClientCredentials {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

const WHAT = { cert: "client certificate", key: "client key", ca: "CA certificate" } as const;

/**
 * Reads the client's certificate, key and CA, and checks what would otherwise
 * surface as a bare connection reset after the handshake: the certificate is
 * valid now, the key is its key, and the CA in the config issued it. Each
 * failure names the file and what to do.
 */
export function loadClientCredentials(
  settings: Pick<ConnectionSettings, "cert" | "key" | "ca">,
  now = new Date(),
): ClientCredentials {
  const credentials = {
    ca: read("ca", settings.ca),
    cert: read("cert", settings.cert),
    key: read("key", settings.key),
  };
  const [cert, ...chain] = certificates("cert", settings.cert, credentials.cert);
  const authorities = certificates("ca", settings.ca, credentials.ca);
  const key = privateKey(settings.key, credentials.key);
  if (!cert) throw new CliError("JW_ERR_CREDENTIALS", `${settings.cert} holds no certificate`);
  if (now < new Date(cert.validFrom)) {
    throw new CliError(
      "JW_ERR_TLS",
      `the client certificate ${settings.cert} is not valid until ${isoDate(cert.validFrom)}: check this machine's clock, or use a certificate valid now`,
    );
  }
  if (now > new Date(cert.validTo)) {
    throw new CliError(
      "JW_ERR_TLS",
      `the client certificate ${settings.cert} expired on ${isoDate(cert.validTo)}: ask the server's operator for a new one`,
    );
  }
  if (!cert.checkPrivateKey(key)) {
    throw new CliError(
      "JW_ERR_CREDENTIALS",
      `the key ${settings.key} does not belong to the client certificate ${settings.cert}: pass the key made with that certificate (--key)`,
    );
  }
  const issuers = [...authorities, ...chain];
  if (!issuers.some((issuer) => cert.checkIssued(issuer) && cert.verify(issuer.publicKey))) {
    throw new CliError(
      "JW_ERR_TLS",
      `the client certificate ${settings.cert} (issuer ${oneLineName(cert.issuer)}) was not issued by the CA in ${settings.ca}, so the server will refuse it: use a certificate from the server's CA, or add the CA that issued it to ${settings.ca}`,
    );
  }
  return credentials;
}

function read(what: keyof typeof WHAT, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new CliError(
      "JW_ERR_CREDENTIALS",
      `cannot read the ${WHAT[what]} ${path} (${(error as NodeJS.ErrnoException).code}): pass --${what}, or add a context with 'runjob context add'`,
    );
  }
}

/** Every certificate of a PEM file (a CA file may hold several, a certificate file its chain). */
function certificates(what: "cert" | "ca", path: string, pem: Buffer): X509Certificate[] {
  const blocks = pem.toString("latin1").match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  try {
    const parsed = blocks.map((block) => new X509Certificate(block));
    if (parsed.length > 0) return parsed;
  } catch {
    // reported below, as for a file with no certificate
  }
  throw new CliError(
    "JW_ERR_CREDENTIALS",
    `${path} is not a PEM certificate: pass the ${WHAT[what]} file (-----BEGIN CERTIFICATE-----) as --${what}`,
  );
}

function privateKey(path: string, pem: Buffer): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    throw new CliError(
      "JW_ERR_CREDENTIALS",
      `${path} is not a PEM private key (or it is encrypted): pass the unencrypted key file as --key`,
    );
  }
}

function isoDate(date: string): string {
  return new Date(date).toISOString();
}

/** "CN=dev CA\nO=jobworker" as one line. */
function oneLineName(name: string): string {
  return name.split("\n").join(", ");
}
