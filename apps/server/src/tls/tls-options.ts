import { readFileSync } from "node:fs";
import type { SecureServerOptions } from "node:http2";
import { ConfigError } from "../config.js";

/** The only TLS 1.3 cipher suites offered, strongest first. */
export const CIPHER_SUITES = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";

/**
 * TLS 1.3 only, a client certificate required and verified against the client
 * CA during the handshake: clients without one, from another CA, expired, or
 * speaking TLS 1.2 or lower never reach an RPC. A file that cannot be read is a
 * ConfigError naming the setting, so the operator knows which flag to fix.
 */
export function tlsOptions(files: { tlsCert: string; tlsKey: string; clientCa: string }): SecureServerOptions {
  return {
    cert: readSetting("tls-cert", files.tlsCert),
    key: readSetting("tls-key", files.tlsKey),
    ca: readSetting("client-ca", files.clientCa),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: "TLSv1.3",
    maxVersion: "TLSv1.3",
    ciphers: CIPHER_SUITES,
  };
}

function readSetting(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`--${flag}: cannot read ${path} (${reason}); point --${flag} at a readable PEM file`);
  }
}
