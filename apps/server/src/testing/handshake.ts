import { connect as tlsConnect } from "node:tls";

/**
 * Connects with raw TLS and reports whether the server accepted the client: an
 * accepting server sends its HTTP/2 SETTINGS right after the handshake; a
 * refusing one sends an alert and closes (with TLS 1.3 the client may see the
 * refusal only after its side of the handshake completed). Also reports the
 * serial of the certificate the server presented.
 */
export function tryHandshake(
  port: number,
  ca: string | Buffer,
  options: { cert?: string | Buffer; key?: string | Buffer },
): Promise<{ result: string; serverSerial?: string }> {
  return new Promise((resolve) => {
    let serverSerial: string | undefined;
    const socket = tlsConnect({
      host: "127.0.0.1",
      port,
      servername: "localhost",
      ca,
      ALPNProtocols: ["h2"],
      ...options,
    });
    const done = (result: string) => {
      socket.destroy();
      resolve({ result, serverSerial });
    };
    socket.once("error", (error: NodeJS.ErrnoException) => done(`refused: ${error.code} ${error.message}`));
    socket.once("secureConnect", () => {
      serverSerial = socket.getPeerCertificate().serialNumber;
      socket.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    });
    socket.once("data", () => done("accepted"));
    socket.once("close", () => done("refused: closed by the server"));
  });
}
