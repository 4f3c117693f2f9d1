import { connect } from "node:tls";
import type { ClientCredentials } from "./client-credentials.js";

/** What one bare TLS connection to the server showed. */
export type HandshakeVerdict = "accepted" | "refused" | "unknown";

/**
 * Tells "the server refused this client certificate" from other ways a
 * connection ends. In TLS 1.3 the client finishes its handshake before the
 * server has checked the client's certificate; a server that accepts it then
 * sends its HTTP/2 SETTINGS, one that refuses sends an alert or just closes.
 * So: handshake done, then a close with nothing read, is a refusal.
 */
export function probeHandshake(
  server: string,
  credentials: ClientCredentials,
  timeoutMs = 5_000,
): Promise<HandshakeVerdict> {
  const { host, port } = splitHostPort(server);
  return new Promise((resolve) => {
    let handshakeDone = false;
    const socket = connect({
      host,
      port,
      ...credentials,
      servername: /^[\d.]+$|:/.test(host) ? undefined : host,
      minVersion: "TLSv1.3",
      ALPNProtocols: ["h2"],
    });
    const settle = (verdict: HandshakeVerdict) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(verdict);
    };
    const timer = setTimeout(() => settle("unknown"), timeoutMs);
    socket.once("secureConnect", () => {
      handshakeDone = true;
    });
    socket.once("data", () => settle("accepted"));
    socket.once("error", (error: NodeJS.ErrnoException) =>
      settle(handshakeDone || /ALERT/.test(error.code ?? "") ? "refused" : "unknown"),
    );
    socket.once("close", () => settle(handshakeDone ? "refused" : "unknown"));
  });
}

/** "localhost:8443" and "[::1]:8443" into host and port. */
export function splitHostPort(server: string): { host: string; port: number } {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(server);
  return match ? { host: match[1] ?? "", port: Number(match[2]) } : { host: server, port: 443 };
}
