import { createHash } from "node:crypto";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileAppears } from "@jobworker/testkit/host";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, type ServerConfig } from "../config.js";
import { clientFor, createTestPki, disposeTestServer, startTestServer, type TestPki } from "../testing/test-server.js";
import { createServerLogger, prettyLine, resolveLogFormat } from "./log-format.js";

const ISO_8601 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A test server whose log lines are kept, parsed; `flags` are extra server flags; `restartOf` an earlier server's config. */
async function loggedServer(pki: TestPki, flags: string[] = [], restartOf?: ServerConfig) {
  const lines: Record<string, unknown>[] = [];
  const logger = createServerLogger("info", "json", { write: (line: string) => lines.push(JSON.parse(line)) });
  const { server, config } = await startTestServer(pki, restartOf, flags, logger);
  return { server, config, lines };
}

describe("the log operators read", () => {
  let pki: TestPki;

  beforeAll(async () => {
    pki = await createTestPki();
  });

  afterAll(async () => {
    await rm(pki.dir, { recursive: true, force: true });
  });

  it("every job end is a line with its id, owner, end reason, exit code or signal, duration and usage, in ISO 8601 time", async () => {
    const logged = await loggedServer(pki);
    try {
      const alice = clientFor(logged.server, pki, pki.clients.alice);
      const exited = (await alice.startJob({ command: "/bin/sh", args: ["-c", "exit 3"] })).job?.id ?? "";
      await alice.waitJob({ id: exited });
      const stopped = (await alice.startJob({ command: "sleep", args: ["1000"] })).job?.id ?? "";
      await alice.stopJob({ id: stopped });
      const ends = logged.lines.filter((line) => line.event === "job_end");
      expect(ends.map((line) => [line.job, line.endReason, line.exitCode, line.signal])).toEqual([
        [exited, "exited", 3, undefined],
        [stopped, "stopped", undefined, "SIGTERM"],
      ]);
      for (const line of ends) {
        expect(line).toMatchObject({ owner: "alice", msg: expect.stringMatching(/^job ended: /) });
        expect(line.time).toMatch(ISO_8601);
        expect(line.startedAt).toMatch(ISO_8601);
        expect(line.endedAt).toMatch(ISO_8601);
        expect(line.durationMs).toBeGreaterThanOrEqual(0);
        for (const field of ["cpuTimeMs", "memoryPeakBytes", "ioReadBytes", "ioWriteBytes", "outputBytes"]) {
          expect(typeof line[field], field).toBe("number");
        }
      }
      expect(ends[0]?.msg).toBe(`job ended: ${exited} of alice, exited (exit 3)`);
    } finally {
      await disposeTestServer(logged.server, logged.config);
    }
  });

  it("a job that ended while no server ran is logged when the next one starts", async () => {
    // The job waits for a file in a host directory exposed to it: the test says when it ends.
    const gate = await mkdtemp("/var/tmp/jobworker-test-gate-");
    await chmod(gate, 0o755);
    const flags = ["--expose", gate];
    let logged = await loggedServer(pki, flags);
    try {
      const alice = clientFor(logged.server, pki, pki.clients.alice);
      const script = `echo ready; while [ ! -e ${gate}/go ]; do sleep 0.05; done; exit 5`;
      const id = (await alice.startJob({ command: "/bin/sh", args: ["-c", script] })).job?.id ?? "";
      for await (const chunk of alice.streamOutput({ id, follow: true })) {
        if (Buffer.from(chunk.data).toString().includes("ready")) break;
      }
      await logged.server.close();
      const jobDir = join(logged.config.stateDir, "jobs", id);
      const exitRecord = fileAppears(jobDir, "exit.json");
      await writeFile(join(gate, "go"), "");
      await exitRecord;
      logged = await loggedServer(pki, flags, logged.config);
      expect(logged.lines.filter((line) => line.event === "job_end")).toEqual([
        expect.objectContaining({ job: id, owner: "alice", endReason: "exited", exitCode: 5 }),
      ]);
    } finally {
      await disposeTestServer(logged.server, logged.config);
      await rm(gate, { recursive: true, force: true });
    }
  });

  it("the audit line of a start records the arguments' count and digest, not the arguments", async () => {
    const logged = await loggedServer(pki);
    try {
      const args = ["-c", "echo --password=hunter2 >/dev/null"];
      await clientFor(logged.server, pki, pki.clients.bob).startJob({ command: "/bin/sh", args });
      const audit = logged.lines.find((line) => line.audit === "start");
      expect(audit).toMatchObject({
        command: "/bin/sh",
        argCount: 2,
        argsSha256: createHash("sha256").update(JSON.stringify(args)).digest("hex"),
      });
      expect(audit).not.toHaveProperty("args");
      expect(JSON.stringify(logged.lines)).not.toContain("hunter2");
    } finally {
      await disposeTestServer(logged.server, logged.config);
    }
  });

  it("with --audit-args the audit line quotes the arguments", async () => {
    const logged = await loggedServer(pki, ["--audit-args"]);
    try {
      await clientFor(logged.server, pki, pki.clients.bob).startJob({ command: "echo", args: ["visible"] });
      expect(logged.lines.find((line) => line.audit === "start")).toMatchObject({ args: ["visible"] });
    } finally {
      await disposeTestServer(logged.server, logged.config);
    }
  });

  it("--log-format auto is pretty on a terminal and JSON otherwise; a bad value is refused", () => {
    expect(resolveLogFormat("auto", { isTTY: true })).toBe("pretty");
    expect(resolveLogFormat("auto", { isTTY: false })).toBe("json");
    expect(resolveLogFormat("json", { isTTY: true })).toBe("json");
    expect(() => loadConfig(["--log-format", "xml"], {})).toThrow(/--log-format must be json, pretty or auto/);
    expect(loadConfig(["--audit-args"], {})).toMatchObject({ auditArgs: true, logFormat: "auto" });
    expect(loadConfig([], { JOBWORKER_AUDIT_ARGS: "true" })).toMatchObject({ auditArgs: true });
    expect(() => loadConfig([], { JOBWORKER_AUDIT_ARGS: "yes" })).toThrow(/--audit-args must be true or false/);
  });

  it("the pretty format is one line a person reads: time, level, message, then the fields", () => {
    const out: string[] = [];
    const logger = createServerLogger("info", "pretty", { write: (text: string) => out.push(text) });
    logger.warn({ job: "j-1", reason: "two words" }, "something happened");
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN {2}something happened job=j-1 reason="two words"\n$/,
    );
    expect(prettyLine("not json")).toBe("not json");
    // pino itself is used for the JSON format: nothing of ours sits between the logger and stdout.
    expect(typeof pino.stdTimeFunctions.isoTime).toBe("function");
  });
});
