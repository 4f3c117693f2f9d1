import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { age, bytes, parseBytes, parsePairs } from "./format.js";

describe("the start form's parsing and the tables' formatting", () => {
  it("reads sizes with or without a binary unit, and says how to write one it cannot read", () => {
    expect(parseBytes("")).toBeUndefined();
    expect(parseBytes(" 1024 ")).toBe(1024n);
    expect(parseBytes("64M")).toBe(64n * 2n ** 20n);
    expect(parseBytes("1.5GiB")).toBe(3n * 2n ** 29n);
    expect(parseBytes("2k")).toBe(2048n);
    expect(() => parseBytes("lots")).toThrow('"lots" is not a size: write e.g. 512M or 2GiB');
    expect(() => parseBytes("-1M")).toThrow(/not a size/);
  });

  it("reads KEY=VALUE pairs a line or comma-separated, keeping '=' in values, and names an entry without one", () => {
    expect(parsePairs("a=1, b=2\nc=x=y\n\n", "label")).toEqual({ a: "1", b: "2", c: "x=y" });
    expect(parsePairs("", "label")).toEqual({});
    expect(() => parsePairs("team", "label")).toThrow('label "team" needs the form KEY=VALUE');
    expect(() => parsePairs("=x", "environment variable")).toThrow(/environment variable "=x"/);
  });

  it("shows sizes in binary units and ages briefly", () => {
    expect(bytes(undefined)).toBe("–");
    expect(bytes(512n)).toBe("512 B");
    expect(bytes(1536)).toBe("1.5 KiB");
    expect(bytes(3n * 2n ** 30n)).toBe("3.0 GiB");
    const now = Date.UTC(2026, 0, 2);
    expect(age(timestampFromMs(now - 42_000), now)).toBe("42s");
    expect(age(timestampFromMs(now - 5 * 60_000), now)).toBe("5m");
    expect(age(timestampFromMs(now - 3 * 3_600_000), now)).toBe("3h");
    expect(age(timestampFromMs(now - 2 * 86_400_000), now)).toBe("2d");
    expect(age(undefined)).toBe("–");
  });
});
