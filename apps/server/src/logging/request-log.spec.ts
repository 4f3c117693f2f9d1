import { describe, expect, it } from "vitest";
import { auditArgs } from "./request-log.js";

describe("audit lines", () => {
  it("quote short arguments whole", () => {
    expect(auditArgs(["-c", "echo hi"])).toEqual({ args: ["-c", "echo hi"] });
  });

  it("cut long arguments to about a kibibyte and count what they leave out", () => {
    const long = "x".repeat(100 * 1024);
    const { args, argsOmittedBytes } = auditArgs(["-c", long, long]);
    expect(args[0]).toBe("-c");
    expect(args.join("").length).toBe(1024);
    expect(argsOmittedBytes).toBe(2 + 2 * 100 * 1024 - 1024);
  });
});
