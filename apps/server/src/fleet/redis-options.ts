import type { RedisOptions } from "bullmq";
import { ConfigError } from "../config.js";

/**
 * ioredis options for `--queue-url`: redis://[USER:PASSWORD@]HOST:PORT[/DB],
 * or rediss:// for TLS. Reconnects forever with a capped backoff: a fleet
 * server outlives a Redis restart.
 */
export function redisOptions(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`--queue-url ${JSON.stringify(url)} is not a URL: use redis://HOST:PORT`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new ConfigError(`--queue-url must start with redis:// or rediss://, got ${JSON.stringify(parsed.protocol)}`);
  }
  const db = parsed.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d+$/.test(db))
    throw new ConfigError(`--queue-url: the path must be a database number, got /${db}`);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ""),
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: db === "" ? 0 : Number(db),
    tls: parsed.protocol === "rediss:" ? {} : undefined,
    // BullMQ's blocking commands must not be cut short by a retry limit.
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(100 * times, 1000),
  };
}
