import type { RedisOptions } from "bullmq";
import { ConfigError } from "../config.js";

/** Reconnects forever with a capped backoff: a fleet server outlives a Redis restart. */
const retryStrategy = (times: number) => Math.min(100 * times, 1000);

/**
 * ioredis options for `--queue-url`:
 * - redis://[USER:PASSWORD@]HOST:PORT[/DB], or rediss:// for TLS;
 * - redis-sentinel://[USER:PASSWORD@]HOST:PORT[,HOST:PORT…]/MASTER[/DB] (rediss-sentinel:// for TLS):
 *   ask those Sentinels for the current primary of MASTER, and follow failovers.
 */
export function redisOptions(url: string): RedisOptions {
  const scheme = /^([a-z-]+):\/\//.exec(url)?.[1];
  const common = { maxRetriesPerRequest: null, retryStrategy }; // BullMQ's blocking commands must not be cut short
  if (scheme === "redis-sentinel" || scheme === "rediss-sentinel") {
    const rest = url.slice(scheme.length + 3);
    const at = rest.lastIndexOf("@", rest.indexOf("/") < 0 ? rest.length : rest.indexOf("/"));
    const credentials = at < 0 ? "" : rest.slice(0, at);
    const [hosts = "", name = "", db = ""] = rest.slice(at + 1).split("/");
    if (!name) throw new ConfigError(`--queue-url ${scheme}:// needs the master's name: ${scheme}://HOST:PORT/MASTER`);
    const sentinels = hosts.split(",").map((hostPort) => {
      const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(hostPort);
      if (!match) throw new ConfigError(`--queue-url: ${JSON.stringify(hostPort)} must be HOST:PORT`);
      return { host: match[1]!, port: Number(match[2]) };
    });
    return {
      ...common,
      ...auth(credentials),
      sentinels,
      name,
      db: database(db),
      ...(scheme === "rediss-sentinel" ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
    };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`--queue-url ${JSON.stringify(url)} is not a URL: use redis://HOST:PORT`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new ConfigError(
      `--queue-url must start with redis://, rediss://, redis-sentinel:// or rediss-sentinel://, got ${JSON.stringify(parsed.protocol)}`,
    );
  }
  return {
    ...common,
    host: parsed.hostname.replace(/^\[|\]$/g, ""),
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: database(parsed.pathname.replace(/^\//, "")),
    tls: parsed.protocol === "rediss:" ? {} : undefined,
  };
}

/** Where the queue's Redis is, for messages (never the password). */
export function redisAddress(options: RedisOptions): string {
  const sentinels: unknown = options.sentinels;
  if (Array.isArray(sentinels)) {
    const hosts = sentinels.map((sentinel: { host?: string; port?: number }) => `${sentinel.host}:${sentinel.port}`);
    return `${options.name} via Sentinel ${hosts.join(",")}`;
  }
  return `${options.host}:${options.port}`;
}

function auth(credentials: string): { username?: string; password?: string } {
  if (!credentials) return {};
  const colon = credentials.indexOf(":");
  const username = colon < 0 ? credentials : credentials.slice(0, colon);
  const password = colon < 0 ? undefined : credentials.slice(colon + 1);
  return {
    username: username ? decodeURIComponent(username) : undefined,
    password: password ? decodeURIComponent(password) : undefined,
  };
}

function database(text: string): number {
  if (text === "") return 0;
  if (!/^\d+$/.test(text)) throw new ConfigError(`--queue-url: the path must be a database number, got /${text}`);
  return Number(text);
}
