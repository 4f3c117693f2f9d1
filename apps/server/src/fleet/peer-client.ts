import type { SecureServerOptions } from "node:http2";
import { type CallOptions, type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { JobService } from "@jobworker/proto";
import { ON_BEHALF_OF_HEADER, onBehalfOf, type Role } from "../tls/identity.js";

/** The caller a forwarded call acts for. */
export interface Caller {
  name: string;
  role: Role;
}

/**
 * Clients of the other fleet servers, one per address, authenticating with
 * this server's own certificate (a peer certificate: serverAuth and
 * clientAuth, OU jobworker-server). Each call names the caller it acts for;
 * the peer applies that caller's scope, so authorization stays where it is.
 */
export class PeerClients {
  private readonly clients = new Map<string, Client<typeof JobService>>();
  private tls: SecureServerOptions | undefined;

  /** `tls` gives the server's TLS files as loaded now: a reload (SIGHUP, rotation) gives peers the new ones. */
  constructor(private readonly tlsNow: () => SecureServerOptions) {}

  /** A client of the server at `address` (host:port). */
  of(address: string): Client<typeof JobService> {
    const tls = this.tlsNow();
    if (tls !== this.tls) {
      // Rotated: new connections present the new certificate; calls under way finish on theirs.
      this.clients.clear();
      this.tls = tls;
    }
    let client = this.clients.get(address);
    if (!client) {
      const nodeOptions = { ca: tls.ca, cert: tls.cert, key: tls.key };
      client = createClient(JobService, createGrpcTransport({ baseUrl: `https://${address}`, nodeOptions }));
      this.clients.set(address, client);
    }
    return client;
  }

  /** Call options that act for `caller`, ending with `signal`. */
  static as(caller: Caller, signal?: AbortSignal, timeoutMs?: number): CallOptions {
    return { headers: { [ON_BEHALF_OF_HEADER]: onBehalfOf(caller) }, signal, timeoutMs };
  }
}
