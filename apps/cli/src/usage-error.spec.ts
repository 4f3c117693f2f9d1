import { mkdtemp, rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runjob } from "./testing/cli-harness.js";

// No server answers here: each of these fails before runjob would connect.
const nowhere = { port: 1, certs: "/nonexistent" };

describe("usage errors say what to do", () => {
  let configDir: string;
  beforeAll(async () => {
    configDir = await mkdtemp("/var/tmp/jobworker-test-cli-config-");
  });
  afterAll(() => rm(configDir, { recursive: true, force: true }));

  const fails = async (args: string[]) => {
    const result = await runjob(nowhere, args, { env: { RUNJOB_CONFIG_DIR: configDir } });
    return { code: result.code, stderr: result.stderr, stdout: result.stdout.toString() };
  };

  it.each([
    [
      "a bad flag value keeps oclif's reason",
      ["start", "--pids", "0", "--", "/bin/true"],
      "runjob: --pids: Expected an integer greater than or equal to 1 but received: 0 (see 'runjob help start') [JW_ERR_USAGE]\n",
    ],
    [
      "an unknown flag after the job's command suggests --",
      ["start", "ls", "--color"],
      "runjob: --color is not a flag of 'runjob start'; if it is meant for the job's command, put -- before that command: runjob start [flags] -- ls --color (see 'runjob help start') [JW_ERR_USAGE]\n",
    ],
    [
      "flags with values before the command are skipped when finding it",
      ["start", "-m", "1G", "--cpu", "500m", "grep", "-r", "x"],
      "runjob: -r is not a flag of 'runjob start'; if it is meant for the job's command, put -- before that command: runjob start [flags] -- grep -r x (see 'runjob help start') [JW_ERR_USAGE]\n",
    ],
    [
      "a misspelt flag gets the nearest one",
      ["logs", "--folow", "abcdef"],
      "runjob: --folow is not a flag of 'runjob logs' (did you mean '--follow'?) (see 'runjob help logs') [JW_ERR_USAGE]\n",
    ],
    [
      "a missing argument is named, without oclif's note on greedy flags",
      ["status"],
      "runjob: Missing 1 required arg: id  job id, name, or a unique id prefix of at least 6 characters (see 'runjob help status') [JW_ERR_USAGE]\n",
    ],
    [
      "an unknown command gets 'did you mean'",
      ["stauts", "abcdef"],
      "runjob: unknown command 'stauts' (did you mean 'runjob status'?); 'runjob help' lists the commands [JW_ERR_USAGE]\n",
    ],
    [
      "an unknown subcommand gets 'did you mean' with its topic",
      ["context", "ad", "x"],
      "runjob: unknown command 'context ad' (did you mean 'runjob context add'?); 'runjob help' lists the commands [JW_ERR_USAGE]\n",
    ],
    [
      "a word like no command gets the list",
      ["frobnicate"],
      "runjob: unknown command 'frobnicate'; 'runjob help' lists the commands [JW_ERR_USAGE]\n",
    ],
    [
      "help for an unknown command gets 'did you mean'",
      ["help", "lsit"],
      "runjob: unknown command 'lsit' (did you mean 'runjob list'?); 'runjob help' lists the commands [JW_ERR_USAGE]\n",
    ],
    [
      "more than one context is for list only",
      ["status", "-c", "a", "-c", "b", "abcdef"],
      "runjob: only 'runjob list' takes more than one --context; give status one (see 'runjob help status') [JW_ERR_USAGE]\n",
    ],
  ])("%s", async (_what, args, stderr) => {
    expect(await fails(args)).toEqual({ code: 125, stderr, stdout: "" });
  });

  it("runjob help CMD shows that command's help, subcommands included", async () => {
    const status = await fails(["help", "status"]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      /^Show a job: state, how it ended, limits and resource usage\.\n\nUSAGE\n {2}\$ runjob status ID/,
    );
    const add = await fails(["help", "context", "add"]);
    expect(add.stdout).toMatch(/USAGE\n {2}\$ runjob context add NAME/);
  });
});
