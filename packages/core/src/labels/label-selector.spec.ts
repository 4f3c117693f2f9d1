import { describe, expect, it } from "vitest";
import { isJobError } from "../errors.js";
import { validateJobName, validateLabels } from "./job-labels.js";
import { parseLabelSelector, selects } from "./label-selector.js";

/** The error code `action` throws with, or "none". */
function codeOf(action: () => unknown): string {
  try {
    action();
    return "none";
  } catch (error) {
    return isJobError(error) ? error.code : "not a JobError";
  }
}

describe("job names and labels", () => {
  it("accepts names like docker's container names and refuses the rest", () => {
    for (const name of ["build-42", "a", "x.y_z", "A9", "a".repeat(63)])
      expect(codeOf(() => validateJobName(name))).toBe("none");
    for (const name of ["", "-x", ".x", "a b", "a/b", "é", "a".repeat(64)])
      expect(codeOf(() => validateJobName(name))).toBe("invalid_argument");
  });

  it("validates label keys and values as Kubernetes does", () => {
    const ok: Record<string, string>[] = [
      { team: "infra" },
      { ci: "" },
      { "example.com/tier": "a.b-c_d" },
      { "a-b": "x".repeat(63) },
    ];
    for (const labels of ok) expect(codeOf(() => validateLabels(labels))).toBe("none");
    const bad: Record<string, string>[] = [
      { "": "x" },
      { "-team": "x" },
      { "team-": "x" },
      { "Example.com/tier": "x" },
      { "/tier": "x" },
      { "a/b/c": "x" },
      { team: "-x" },
      { team: "a b" },
      { team: "x".repeat(64) },
      { ["k".repeat(64)]: "x" },
    ];
    for (const labels of bad)
      expect(
        codeOf(() => validateLabels(labels)),
        JSON.stringify(labels),
      ).toBe("invalid_argument");
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]));
    expect(codeOf(() => validateLabels(many))).toBe("invalid_argument");
  });
});

describe("label selectors", () => {
  const labels = { team: "infra", ci: "true", tier: "" };

  it("selects on equality, inequality, presence and absence, all of which must hold", () => {
    expect(selects(parseLabelSelector("team=infra"), labels)).toBe(true);
    expect(selects(parseLabelSelector("team==infra, ci=true"), labels)).toBe(true);
    expect(selects(parseLabelSelector("team=infra,ci=false"), labels)).toBe(false);
    expect(selects(parseLabelSelector("team!=web"), labels)).toBe(true);
    expect(selects(parseLabelSelector("team!=infra"), labels)).toBe(false);
    expect(selects(parseLabelSelector("tier"), labels)).toBe(true);
    expect(selects(parseLabelSelector("!tier"), labels)).toBe(false);
    expect(selects(parseLabelSelector("!gone"), labels)).toBe(true);
    expect(selects(parseLabelSelector("tier="), labels)).toBe(true);
    expect(selects(parseLabelSelector("team"), undefined)).toBe(false);
    expect(selects(parseLabelSelector("team!=x"), undefined)).toBe(true);
    expect(selects(parseLabelSelector(""), undefined)).toBe(true);
  });

  it("does not mistake inherited properties for labels", () => {
    expect(selects(parseLabelSelector("constructor"), {})).toBe(false);
  });

  it("refuses malformed selectors with invalid_argument", () => {
    for (const text of ["team=infra,", ",", "=x", "!team=x", "team=a b", "bad key=x", "team=-x"])
      expect(
        codeOf(() => parseLabelSelector(text)),
        text,
      ).toBe("invalid_argument");
  });
});
