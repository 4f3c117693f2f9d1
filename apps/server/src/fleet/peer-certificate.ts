import { X509Certificate } from "node:crypto";
import { ConfigError } from "../config.js";
import { PEER_ROLE } from "../tls/identity.js";

/** The clientAuth extended key usage. */
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

/**
 * Checks that the server's certificate can also be its fleet peer certificate:
 * OU jobworker-server and clientAuth, as `jobworker-server pki issue --server`
 * makes them. Without, every forwarded call would fail its TLS handshake at
 * the peer; the server refuses to join the fleet instead, and says why.
 */
export function checkPeerCertificate(pem: string | Buffer): void {
  const certificate = new X509Certificate(pem);
  const units = certificate.subject
    .split("\n")
    .filter((line) => line.startsWith("OU="))
    .map((line) => line.slice(3));
  const usages = certificate.keyUsage ?? [];
  if (units.length !== 1 || units[0] !== PEER_ROLE || !usages.includes(CLIENT_AUTH)) {
    throw new ConfigError(
      `--tls-cert is not a fleet peer certificate (it needs OU "${PEER_ROLE}" and clientAuth, to present to the other servers): issue one with 'jobworker-server pki issue --server', or 'pnpm certs --force' for the dev PKI`,
    );
  }
}
