import { describe, expect, it } from "vitest";
import { parseSince } from "../units.js";
import { LineStamper } from "./line-stamper.js";

describe("--timestamps and --since", () => {
  it("puts the time before each line, across chunks that split lines", () => {
    const stamper = new LineStamper();
    const t0 = Date.UTC(2026, 10, 29, 10, 0, 0, 5);
    const out = [stamper.stamp(Buffer.from("a\nb"), t0), stamper.stamp(Buffer.from("c\n\nd\n"), t0 + 1000)].map(
      (part) => Buffer.from(part).toString(),
    );
    expect(out.join("")).toBe(
      "2026-11-29T10:00:00.005Z a\n2026-11-29T10:00:00.005Z bc\n2026-11-29T10:00:01.005Z \n2026-11-29T10:00:01.005Z d\n",
    );
  });

  it("reads a duration ago or an RFC 3339 time with its zone, and refuses the rest", () => {
    const now = Date.UTC(2026, 10, 29, 12, 0, 0);
    expect(parseSince("10m", now)).toBe(now - 600_000);
    expect(parseSince("2026-11-29T10:00:00Z", now)).toBe(Date.UTC(2026, 10, 29, 10, 0, 0));
    expect(parseSince("2026-11-29T11:00:00.5+01:00", now)).toBe(Date.UTC(2026, 10, 29, 10, 0, 0, 500));
    for (const bad of ["yesterday", "2026-11-29", "2026-11-29T10:00:00", "10x"])
      expect(() => parseSince(bad, now)).toThrow(/neither a duration/);
  });
});
