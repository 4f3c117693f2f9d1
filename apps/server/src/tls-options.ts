import { readFileSync } from "node:fs";
import type { SecureServerOptions } from "node:http2";

/** The only TLS 1.3 cipher suites offered, strongest first. */
export const CIPHER_SUITES = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";

/**
 * TLS 1.3 only, a client certificate required and verified against the client
 * CA during the handshake: clients without one, from another CA, expired, or
 * speaking TLS 1.2 or lower never reach an RPC.
 */
export function tlsOptions(files: { tlsCert: string; tlsKey: string; clientCa: string }): SecureServerOptions {
  return {
    cert: readFileSync(files.tlsCert),
    key: readFileSync(files.tlsKey),
    ca: readFileSync(files.clientCa),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: "TLSv1.3",
    maxVersion: "TLSv1.3",
    ciphers: CIPHER_SUITES,
  };
}
