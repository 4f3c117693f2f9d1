import { describe, expect, it } from "vitest";
import { resolveLimits } from "./limits.js";

describe("resolveLimits", () => {
  const defaults = { cpuMillicores: 1000, memoryBytes: 512 * 2 ** 20, maxPids: 1024 };
  const maxima = { cpuMillicores: 2000, memoryBytes: 2 ** 30, maxPids: 4096, ioWriteBps: 10 ** 9 };

  it("fills absent limits with the defaults and keeps the requested ones", () => {
    expect(resolveLimits({ cpuMillicores: 500, ioWriteBps: 5_000_000 }, defaults, maxima)).toEqual({
      cpuMillicores: 500,
      memoryBytes: 512 * 2 ** 20,
      maxPids: 1024,
      ioWriteBps: 5_000_000,
    });
  });

  it("refuses a value above the maximum instead of clamping it", () => {
    expect(() => resolveLimits({ cpuMillicores: 2001 }, defaults, maxima)).toThrow(
      /cpuMillicores of 2001 is above the server's maximum of 2000/,
    );
  });

  it.each([
    [{ memoryBytes: 1024 }, /memoryBytes must be an integer of at least/],
    [{ cpuMillicores: 1.5 }, /cpuMillicores must be an integer/],
    [{ maxPids: 0 }, /maxPids must be an integer of at least 1/],
    [{ ioReadIops: -1 }, /ioReadIops must be an integer/],
  ])("refuses %o", (limits, message) => {
    expect(() => resolveLimits(limits, defaults, maxima)).toThrow(message);
  });
});
