import { describe, expect, it } from "vitest";
import { DEFAULT_DETACH_KEYS, DetachMatcher, parseDetachKeys } from "./detach-keys.js";

const bytes = (...values: number[]) => Uint8Array.from(values);

describe("detach keys", () => {
  it("parse as docker writes them: ctrl-<key> and single characters, comma-separated", () => {
    expect(parseDetachKeys(DEFAULT_DETACH_KEYS)).toEqual(bytes(0x10, 0x11));
    expect(parseDetachKeys("ctrl-x,a,ctrl-@,ctrl-_")).toEqual(bytes(0x18, 0x61, 0x00, 0x1f));
    expect(() => parseDetachKeys("ctrl-1")).toThrow(/is not a key/);
    expect(() => parseDetachKeys("alt-x")).toThrow(/is not a key/);
  });

  it("detach on the whole sequence, even split across reads, and drop what follows it", () => {
    const matcher = new DetachMatcher(parseDetachKeys(DEFAULT_DETACH_KEYS));
    expect(matcher.feed(bytes(0x61, 0x10))).toEqual({ send: bytes(0x61), detach: false });
    expect(matcher.feed(bytes(0x11, 0x62))).toEqual({ send: bytes(), detach: true });
  });

  it("send a sequence that does not complete as typed, and restart the match on its first key", () => {
    const matcher = new DetachMatcher(parseDetachKeys(DEFAULT_DETACH_KEYS));
    expect(matcher.feed(bytes(0x10, 0x61))).toEqual({ send: bytes(0x10, 0x61), detach: false });
    expect(matcher.feed(bytes(0x10, 0x10, 0x11))).toEqual({ send: bytes(0x10), detach: true });
  });
});
