import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliError } from "../cli-error.js";
import { readConfigFile, writeConfigFile } from "./config-file.js";

describe("runjob's config file", () => {
  let dir: string;
  let path: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "runjob-config-"));
    path = join(dir, "config.json");
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const failure = async (text: string): Promise<CliError> => {
    await writeFile(path, text);
    try {
      readConfigFile(path);
    } catch (error) {
      if (error instanceof CliError) return error;
      throw error;
    }
    throw new Error("the config was accepted");
  };

  it("is empty when it does not exist", () => {
    expect(readConfigFile(join(dir, "missing.json"))).toEqual({ settings: {}, contexts: {} });
  });

  it("reads back what runjob wrote: contexts, the current one and top-level settings", () => {
    const config = {
      settings: { server: "build-01:8443" },
      currentContext: "local",
      contexts: { local: { server: "localhost:8443", cert: "/c/alice.crt", key: "/c/alice.key", ca: "/c/ca.crt" } },
    };
    writeConfigFile(path, config);
    expect(readConfigFile(path)).toEqual(config);
  });

  it("names the file, line and column of a JSON syntax error", async () => {
    const error = await failure('{\n  "server": "a:1",\n  "cert" "x"\n}\n');
    expect(error.code).toBe("JW_ERR_CLI_CONFIG");
    expect(error.message).toBe(
      `${path}:3:10: not valid JSON (Expected ':' after property name): fix it, or remove the file and run 'runjob context add'`,
    );
  });

  it("names where the file ended when it ends too early", async () => {
    const error = await failure('{\n  "server": "a:1",\n');
    expect(error.message).toBe(
      `${path}:3:1: not valid JSON (Expected double-quoted property name): fix it, or remove the file and run 'runjob context add'`,
    );
  });

  it("refuses an unknown key with its line and the nearest known key", async () => {
    const error = await failure('{\n  "currentContext": "x",\n  "sever": "a:1"\n}\n');
    expect(error.message).toBe(
      `${path}:3: unknown key "sever" (did you mean "server"?); known keys: server, cert, key, ca, currentContext, contexts`,
    );
  });

  it("refuses an unknown key inside a context, on that context's line", async () => {
    const error = await failure(
      '{\n  "contexts": {\n    "a": { "server": "a:1", "cert": "/c", "key": "/k", "ca": "/ca" },\n    "b": {\n      "server": "b:1",\n      "certt": "/c"\n    }\n  }\n}\n',
    );
    expect(error.message).toBe(
      `${path}:6: unknown key "certt" in context "b" (did you mean "cert"?); known keys: server, cert, key, ca`,
    );
  });

  it("names a context that lacks a setting, and how to add it again", async () => {
    const error = await failure('{\n  "contexts": {\n    "prod": { "server": "p:1" }\n  }\n}\n');
    expect(error.message).toBe(
      `${path}:3: context "prod" lacks cert, key, ca: add it again with 'runjob context add prod --server HOST:PORT --cert F --key F --ca F'`,
    );
  });

  it("refuses a setting that is not a string, and a file that is not an object", async () => {
    expect((await failure('{\n  "server": 8443\n}')).message).toBe(`${path}:2: "server" must be a string`);
    expect((await failure("[]")).message).toMatch(new RegExp(`^${path}:1: must hold a JSON object`));
  });
});
