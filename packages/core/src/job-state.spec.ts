import { describe, expect, it } from "vitest";
import { assertTransition, canTransition, JOB_STATES } from "./job-state.js";

describe("job state machine", () => {
  it("allows starting -> running -> stopping -> ended, and ending from starting or running", () => {
    expect(canTransition("starting", "running")).toBe(true);
    expect(canTransition("running", "stopping")).toBe(true);
    expect(canTransition("stopping", "ended")).toBe(true);
    expect(canTransition("running", "ended")).toBe(true);
    expect(canTransition("starting", "ended")).toBe(true);
  });

  it("never leaves ended and never goes back", () => {
    for (const to of JOB_STATES) expect(canTransition("ended", to)).toBe(false);
    expect(canTransition("stopping", "running")).toBe(false);
    expect(() => assertTransition("ended", "running")).toThrow(/invalid job state transition ended -> running/);
  });
});
