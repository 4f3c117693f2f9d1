import { describe, expect, it } from "vitest";
import { decideOutcome } from "./outcome.js";

describe("decideOutcome", () => {
  it("an exit is exited, with its code", () => {
    expect(decideOutcome({ kind: "exited", exitCode: 3 }, undefined, 0)).toEqual({
      endReason: "exited",
      exitCode: 3,
      oomKilled: false,
    });
  });

  it("SIGKILL with an OOM kill counted is oom_killed", () => {
    expect(decideOutcome({ kind: "signaled", signal: 9, statusKnown: true }, undefined, 1)).toMatchObject({
      endReason: "oom_killed",
      signal: 9,
      oomKilled: true,
    });
  });

  it("an OOM kill of a child while the main process exits normally stays exited, oomKilled noted", () => {
    expect(decideOutcome({ kind: "exited", exitCode: 0 }, undefined, 1)).toMatchObject({
      endReason: "exited",
      oomKilled: true,
    });
  });

  it("a SIGKILL without an OOM kill is signaled", () => {
    expect(decideOutcome({ kind: "signaled", signal: 9, statusKnown: true }, undefined, 0)).toMatchObject({
      endReason: "signaled",
    });
  });

  it("a stop requested by jobworker names the cause, keeping the status", () => {
    expect(decideOutcome({ kind: "signaled", signal: 15, statusKnown: true }, "timed_out", 0)).toMatchObject({
      endReason: "timed_out",
      signal: 15,
    });
  });

  it("no exit record is lost", () => {
    expect(decideOutcome(undefined, "stopped", 0)).toMatchObject({ endReason: "lost" });
  });
});
