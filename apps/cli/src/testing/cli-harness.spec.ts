import { describe, expect, it } from "vitest";
import { runShell } from "./cli-harness.js";

/** No server is contacted here: the scripts only exit or die. */
const noServer = { port: 1, certs: "/nonexistent" };

describe("the CLI test harness", () => {
  it("reports an exit code as the result", async () => {
    expect(await runShell(noServer, "echo out; echo err >&2; exit 3")).toMatchObject({ code: 3, stderr: "err\n" });
  });

  it("fails when the process is killed by a signal, instead of reporting exit 0", async () => {
    await expect(runShell(noServer, "kill -KILL $$")).rejects.toThrow(/killed by SIGKILL/);
  });
});
