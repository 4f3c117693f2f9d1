import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { JobService } from "@jobworker/proto";
import { loadClientCredentials } from "../tls/client-credentials.js";
import type { ConnectionSettings } from "./settings.js";
import { WIDE_WINDOW_SETTINGS, WideWindowSessionManager } from "./wide-window-session.js";

export type JobClient = Client<typeof JobService>;

/**
 * A JobService client over HTTP/2 with mutual TLS 1.3, from the resolved
 * settings. `onCallSent` hears of every call sent over an open connection
 * (how a reconnecting command learns the server is back).
 */
export function createJobClient(settings: ConnectionSettings, onCallSent?: () => void): JobClient {
  const credentials = loadClientCredentials(settings);
  const baseUrl = `https://${settings.server}`;
  const nodeOptions = {
    ...credentials,
    minVersion: "TLSv1.3" as const,
    settings: WIDE_WINDOW_SETTINGS,
  };
  const transport = createGrpcTransport({
    baseUrl,
    nodeOptions,
    sessionManager: new WideWindowSessionManager(baseUrl, {}, nodeOptions, onCallSent),
  });
  return createClient(JobService, transport);
}
