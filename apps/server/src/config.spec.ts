import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, usage } from "./config.js";

describe("server configuration", () => {
  let dir: string;
  let file: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "jobworker-config-"));
    file = join(dir, "config.json");
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("takes flags over environment over the config file over defaults", async () => {
    await writeFile(
      file,
      JSON.stringify({ listen: "0.0.0.0:1", "max-jobs": 7, "state-dir": "/srv/state", "output-cap-bytes": "1024" }),
    );
    const config = loadConfig(["--config", file, "--listen", "127.0.0.1:9"], {
      JOBWORKER_MAX_JOBS: "5",
      JOBWORKER_LISTEN: "10.0.0.1:2",
    });
    expect(config).toMatchObject({
      listen: "127.0.0.1:9",
      maxJobs: 5,
      stateDir: "/srv/state",
      outputCap: 1024,
      gracePeriodMs: 10_000,
    });
  });

  it("reads the config file named by JOBWORKER_CONFIG", async () => {
    await writeFile(file, JSON.stringify({ "cgroup-parent": "delegated" }));
    expect(loadConfig([], { JOBWORKER_CONFIG: file })).toMatchObject({ cgroupParent: "delegated" });
  });

  it.each([
    [["--max-jobs", "many"], "JW_ERR_CONFIG_VALUE", /--max-jobs must be a non-negative integer, got "many"/],
    [["--no-such-flag"], "JW_ERR_CONFIG_FLAG", /Unknown option '--no-such-flag'/],
  ])("refuses %j with a clear error and its code", (argv, code, message) => {
    expect(() => loadConfig(argv, {})).toThrow(ConfigError);
    expect(() => loadConfig(argv, {})).toThrow(
      expect.objectContaining({ code, message: expect.stringMatching(message) }),
    );
  });

  it("refuses a config file with an unknown setting", async () => {
    await writeFile(file, JSON.stringify({ "max-jbos": 3 }));
    expect(() => loadConfig(["--config", file], {})).toThrow(
      expect.objectContaining({
        code: "JW_ERR_CONFIG_FILE",
        message: expect.stringMatching(/unknown setting "max-jbos"/),
      }),
    );
  });

  it("--help documents every setting with its environment variable and default", () => {
    expect(loadConfig(["--help"], {})).toBe("help");
    const help = usage();
    for (const flag of [
      "listen",
      "tls-cert",
      "tls-key",
      "client-ca",
      "state-dir",
      "cgroup-parent",
      "job-uid-first",
      "max-memory-bytes",
      "output-cap-bytes",
      "max-jobs",
      "grace-period-ms",
      "metrics-listen",
    ]) {
      expect(help).toContain(`--${flag}`);
    }
    expect(help).toMatch(/env JOBWORKER_LISTEN, default "127.0.0.1:8443"/);
  });
});
