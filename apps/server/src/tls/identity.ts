import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import type { TLSSocket } from "node:tls";
import { createContextKey } from "@connectrpc/connect";

/** The two roles jobworker knows, read from the certificate's OU. */
export type Role = "admin" | "user";

/** Who is calling, from the verified client certificate. */
export type Identity = { name: string; role: Role } | { refused: string };

/** Connect context key under which each request carries its caller's identity. */
export const identityKey = createContextKey<Identity>({ refused: "no client certificate" });

const ROLES: ReadonlySet<string> = new Set(["admin", "user"]);

/** Identities by connection: a TLS 1.3 peer cannot change its certificate, and parsing it costs on every call. */
const identities = new WeakMap<object, Identity>();

/**
 * The TLS socket of the connection a request came on, the same object for
 * every request of that connection. An HTTP/2 request's own `socket` is a new
 * proxy per stream: keyed on it, the identity cache would miss on every call
 * and each call would parse the peer certificate again.
 */
export function connectionSocketOf(request: IncomingMessage | Http2ServerRequest): TLSSocket {
  const session = "stream" in request ? request.stream.session : undefined;
  return (session?.socket ?? request.socket) as TLSSocket;
}

/**
 * Reads the caller from the TLS socket: CN is the name, OU the role. The TLS
 * layer has already verified the chain; this only interprets the subject.
 * Never reads headers: identity comes from the certificate alone.
 */
export function identityOf(socket: Pick<TLSSocket, "authorized" | "getPeerCertificate">): Identity {
  let identity = identities.get(socket);
  if (!identity) {
    identity = readIdentity(socket);
    identities.set(socket, identity);
  }
  return identity;
}

function readIdentity(socket: Pick<TLSSocket, "authorized" | "getPeerCertificate">): Identity {
  if (!socket.authorized) return { refused: "the client certificate was not verified" };
  const subject = socket.getPeerCertificate().subject;
  const name = single(subject?.CN);
  const units = [subject?.OU ?? []].flat();
  if (!name) return { refused: "the client certificate has no single CN" };
  if (units.length !== 1 || !ROLES.has(units[0] ?? "")) {
    return {
      refused: `the client certificate must carry exactly one OU, "admin" or "user"; it has ${JSON.stringify(units)}`,
    };
  }
  return { name, role: units[0] === "admin" ? "admin" : "user" };
}

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

/** The OU of a jobworker server's own certificate (dev-pki's PEER_UNIT): fleet servers forward calls with it. */
export const PEER_ROLE = "jobworker-server";

/**
 * The header a fleet server sends when it forwards a call: `ROLE:NAME` of the
 * caller it acts for. Accepted only over a connection authenticated with a
 * PEER_ROLE certificate; from anyone else the call is refused.
 */
export const ON_BEHALF_OF_HEADER = "jobworker-on-behalf-of";

/**
 * The identity a call runs as: the certificate's, or, on a call a fleet
 * server forwards, the caller it names in ON_BEHALF_OF_HEADER. A peer
 * certificate without the header, and the header without a peer certificate,
 * are refused: a user cannot borrow another identity.
 */
export function callerIdentity(
  socket: Pick<TLSSocket, "authorized" | "getPeerCertificate">,
  onBehalfOf: string | string[] | undefined,
): Identity {
  const peer = isPeer(socket);
  if (onBehalfOf === undefined) {
    return peer
      ? { refused: `a jobworker server must name the caller it acts for (${ON_BEHALF_OF_HEADER})` }
      : identityOf(socket);
  }
  if (!peer) {
    return { refused: `only a jobworker server (certificate OU "${PEER_ROLE}") may send ${ON_BEHALF_OF_HEADER}` };
  }
  const value = typeof onBehalfOf === "string" ? onBehalfOf : "";
  const colon = value.indexOf(":");
  const role = value.slice(0, colon);
  const name = value.slice(colon + 1);
  if (colon < 0 || !ROLES.has(role) || name.length === 0) {
    return { refused: `${ON_BEHALF_OF_HEADER} must be ROLE:NAME with ROLE admin or user` };
  }
  return { name, role: role === "admin" ? "admin" : "user" };
}

/** The value of ON_BEHALF_OF_HEADER for `caller`. */
export function onBehalfOf(caller: { name: string; role: Role }): string {
  return `${caller.role}:${caller.name}`;
}

const peers = new WeakMap<object, boolean>();

function isPeer(socket: Pick<TLSSocket, "authorized" | "getPeerCertificate">): boolean {
  let peer = peers.get(socket);
  if (peer === undefined) {
    const units = [socket.authorized ? (socket.getPeerCertificate().subject?.OU ?? []) : []].flat();
    peer = units.length === 1 && units[0] === PEER_ROLE;
    peers.set(socket, peer);
  }
  return peer;
}
