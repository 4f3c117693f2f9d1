import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseExpose, usage } from "./config.js";

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
    [["--max-jobs", ""], "JW_ERR_CONFIG_VALUE", /--max-jobs must be a non-negative integer, got ""/],
    [["--job-uid-first", "0x10"], "JW_ERR_CONFIG_VALUE", /--job-uid-first must be a non-negative integer, got "0x10"/],
    [["--max-disk-bytes", "1e9"], "JW_ERR_CONFIG_VALUE", /--max-disk-bytes must be a non-negative integer, got "1e9"/],
    [["--job-uid-count", " 12"], "JW_ERR_CONFIG_VALUE", /--job-uid-count must be a non-negative integer, got " 12"/],
    [
      ["--default-disk-bytes=-1"],
      "JW_ERR_CONFIG_VALUE",
      /--default-disk-bytes must be a non-negative integer, got "-1"/,
    ],
    [["--no-such-flag"], "JW_ERR_CONFIG_FLAG", /Unknown option '--no-such-flag'/],
  ])("refuses %j with a clear error and its code", (argv, code, message) => {
    expect(() => loadConfig(argv, {})).toThrow(ConfigError);
    expect(() => loadConfig(argv, {})).toThrow(
      expect.objectContaining({ code, message: expect.stringMatching(message) }),
    );
  });

  it("takes --expose repeatedly, or comma-separated from the environment or a list in the file", async () => {
    expect(loadConfig(["--expose", "/srv/data", "--expose", "/srv/out:rw"], {})).toMatchObject({
      expose: ["/srv/data", "/srv/out:rw"],
    });
    expect(loadConfig([], { JOBWORKER_EXPOSE: "/a, /b:ro" })).toMatchObject({ expose: ["/a", "/b:ro"] });
    await writeFile(file, JSON.stringify({ expose: ["/c:rw"] }));
    expect(loadConfig(["--config", file], {})).toMatchObject({ expose: ["/c:rw"] });
    expect(loadConfig([], {})).toMatchObject({ expose: [] });
    expect(parseExpose("/srv/out:rw")).toEqual({ path: "/srv/out", writable: true });
    expect(parseExpose("/srv/data")).toEqual({ path: "/srv/data", writable: false });
    expect(() => parseExpose("srv:rw")).toThrow(/--expose "srv:rw": expected an absolute PATH/);
  });

  it("reads durations with a unit, as milliseconds", () => {
    expect(loadConfig(["--retention", "7d", "--max-grace", "90s"], {})).toMatchObject({
      retention: 7 * 86_400_000,
      maxGrace: 90_000,
    });
    expect(loadConfig([], { JOBWORKER_MAX_GRACE: "250" })).toMatchObject({ maxGrace: 250 });
    expect(() => loadConfig(["--retention", "7 days"], {})).toThrow(
      expect.objectContaining({
        code: "JW_ERR_CONFIG_VALUE",
        message: expect.stringMatching(/--retention must be a duration/),
      }),
    );
  });

  it("refuses a list where a setting takes one value", async () => {
    await writeFile(file, JSON.stringify({ "max-jobs": [1, 2] }));
    expect(() => loadConfig(["--config", file], {})).toThrow(/--max-jobs takes one value, not a list/);
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
      "expose",
      "default-disk-bytes",
      "max-disk-bytes",
    ]) {
      expect(help).toContain(`--${flag}`);
    }
    expect(help).toMatch(/env JOBWORKER_LISTEN, default "127.0.0.1:8443"/);
  });
});
