import { readFileSync } from "node:fs";
import { type CallOptions, type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { JobService } from "@jobworker/proto";
import type { ServerConfig } from "../config.js";
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
  private readonly tls: { ca: Buffer; cert: Buffer; key: Buffer };

  constructor(config: Pick<ServerConfig, "clientCa" | "tlsCert" | "tlsKey">) {
    this.tls = {
      ca: readFileSync(config.clientCa),
      cert: readFileSync(config.tlsCert),
      key: readFileSync(config.tlsKey),
    };
  }

  /** A client of the server at `address` (host:port). */
  of(address: string): Client<typeof JobService> {
    let client = this.clients.get(address);
    if (!client) {
      client = createClient(JobService, createGrpcTransport({ baseUrl: `https://${address}`, nodeOptions: this.tls }));
      this.clients.set(address, client);
    }
    return client;
  }

  /** Call options that act for `caller`, ending with `signal`. */
  static as(caller: Caller, signal?: AbortSignal, timeoutMs?: number): CallOptions {
    return { headers: { [ON_BEHALF_OF_HEADER]: onBehalfOf(caller) }, signal, timeoutMs };
  }
}
