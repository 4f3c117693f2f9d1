import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { JobClient } from "../connection/client.js";
import { uiAssets } from "./assets.js";
import { forwardingRoutes } from "./forward.js";
import { refusal, TOKEN_COOKIE } from "./guard.js";

const API_PREFIX = "/jobworker.v1.JobService/";

// No Access-Control-* header ever: only this server's own page may call it.
const PAGE_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  // The URL holds the token: never send it on to another site.
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  // xterm writes its own <style> element; everything else comes from this server.
  "content-security-policy":
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; frame-ancestors 'none'",
};

/** A running 'runjob ui' server. */
export interface UiServer {
  /** The URL to open, with the token. */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

function answer(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { ...PAGE_HEADERS, "content-type": "text/plain; charset=utf-8" });
  response.end(`${message}\n`);
}

/**
 * Serves the page and forwards its gRPC-Web calls to the jobworker server
 * through `client`, on `host:port` (0: a free port). Every request passes the
 * guard (guard.ts) first; anything but the page, its assets and JobService
 * calls is 404.
 */
export async function startUiServer(options: { client: JobClient; host: string; port: number }): Promise<UiServer> {
  const token = randomBytes(24).toString("base64url");
  const assets = uiAssets();
  const api = connectNodeAdapter({
    routes: forwardingRoutes(options.client),
    grpcWeb: true,
    grpc: false,
    connect: false,
  });
  let port = 0;
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    const isApi = path.startsWith(API_PREFIX);
    const refused = refusal(request, { host: options.host, port }, token, isApi);
    if (refused) return answer(response, refused.status, refused.message);
    if (isApi) {
      if (request.method !== "POST") return answer(response, 405, "JobService calls are POST requests (gRPC-Web)");
      return api(request, response);
    }
    const asset = assets.get(path);
    if (!asset) return answer(response, 404, `runjob ui has no ${path}: open /`);
    if (request.method !== "GET" && request.method !== "HEAD") {
      return answer(response, 405, "the page's files are read with GET");
    }
    response.writeHead(200, {
      ...PAGE_HEADERS,
      "content-type": asset.type,
      "set-cookie": `${TOKEN_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict`,
    });
    response.end(request.method === "HEAD" ? undefined : asset.body);
  });
  server.listen(options.port, options.host);
  await once(server, "listening");
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host}:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}
