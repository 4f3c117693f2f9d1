import type { Socket } from "node:net";
import type { TLSSocket, Server as TlsServer } from "node:tls";

/**
 * Caps the API listener's open connections, so no number of clients can take
 * every file descriptor. At the cap, a new connection closes the oldest one
 * still in its TLS handshake: anyone can open connections without a
 * certificate, and those must never crowd out a client that proves who it is.
 * Only when every open connection has completed its handshake is the new one
 * refused, by closing it at once (the socket-level refusal a client sees as a
 * reset connection).
 */
export class ConnectionLimiter {
  private readonly sockets = new Set<Socket>();
  /** Connections still in their handshake, oldest first (a Map keeps insertion order). */
  private readonly handshaking = new Map<string, Socket>();
  private refusedCount = 0;
  private evictedCount = 0;

  constructor(private readonly max: number) {}

  /** Connections open now. */
  get open(): number {
    return this.sockets.size;
  }

  /** Connections refused at the cap since start. */
  get refused(): number {
    return this.refusedCount;
  }

  /** Connections closed in their handshake to make room for a new one, since start. */
  get evicted(): number {
    return this.evictedCount;
  }

  /** Starts limiting `server`'s connections. */
  attach(server: TlsServer): void {
    server.on("connection", (socket: Socket) => this.admit(socket));
    // The TLS socket wraps the raw one; both name the same peer address and port.
    server.on("secureConnection", (socket: TLSSocket) => this.handshaking.delete(peerKey(socket)));
  }

  private admit(socket: Socket): void {
    if (this.sockets.size >= this.max && !this.evictOldestHandshake()) {
      this.refusedCount++;
      socket.destroy();
      return;
    }
    const key = peerKey(socket);
    this.sockets.add(socket);
    this.handshaking.set(key, socket);
    socket.once("close", () => {
      this.sockets.delete(socket);
      if (this.handshaking.get(key) === socket) this.handshaking.delete(key);
    });
  }

  /** Closes every connection at once (the end of a shutdown's grace). */
  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  private evictOldestHandshake(): boolean {
    const oldest = this.handshaking.entries().next();
    if (oldest.done) return false;
    const [key, socket] = oldest.value;
    this.handshaking.delete(key);
    this.evictedCount++;
    socket.destroy();
    return true;
  }
}

function peerKey(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}
