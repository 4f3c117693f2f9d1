import { describe, expect, it } from "vitest";
import { ConfigError } from "../config.js";
import { redisAddress, redisOptions } from "./redis-options.js";

describe("--queue-url", () => {
  it("reads host, port, credentials, database and TLS from a redis:// or rediss:// URL", () => {
    expect(redisOptions("redis://queue.internal:6380/2")).toMatchObject({ host: "queue.internal", port: 6380, db: 2 });
    expect(redisOptions("rediss://jobs:s%3Acret@10.0.0.5")).toMatchObject({
      host: "10.0.0.5",
      port: 6379,
      username: "jobs",
      password: "s:cret",
      tls: {},
    });
    expect(redisOptions("redis://[::1]:7000")).toMatchObject({ host: "::1", port: 7000 });
  });

  it("reads Sentinels and the master's name from a redis-sentinel:// URL, and names no password in messages", () => {
    const options = redisOptions("redis-sentinel://:pw@s1:26379,s2:26380/jobs/1");
    expect(options).toMatchObject({
      sentinels: [
        { host: "s1", port: 26379 },
        { host: "s2", port: 26380 },
      ],
      name: "jobs",
      password: "pw",
      db: 1,
    });
    expect(redisAddress(options)).toBe("jobs via Sentinel s1:26379,s2:26380");
    expect(redisAddress(redisOptions("redis://u:pw@h:1"))).toBe("h:1");
  });

  it.each([
    ["http://h:1", /must start with redis:\/\//],
    ["not a url", /is not a URL/],
    ["redis://h:1/x", /database number/],
    ["redis-sentinel://s1:26379", /master's name/],
    ["redis-sentinel://s1/jobs", /must be HOST:PORT/],
  ])("refuses %s with a ConfigError that says what to write", (url, message) => {
    expect(() => redisOptions(url)).toThrow(ConfigError);
    expect(() => redisOptions(url)).toThrow(message);
  });
});
