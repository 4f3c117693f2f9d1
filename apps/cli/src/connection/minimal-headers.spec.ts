import { describe, expect, it } from "vitest";
import { MinimalHeaders } from "./minimal-headers.js";

/** Every way Connect touches its headers, applied to a `Headers` of either kind; what it reads back. */
function exercise(make: (init?: never) => Headers | MinimalHeaders): unknown[] {
  const seen: unknown[] = [];
  const headers = make();
  headers.append("Grpc-Status", " 0 ");
  headers.append("x-jobworker-code", "JW_ERR_NOT_FOUND");
  headers.append("X-Multi", "a");
  headers.append("x-multi", "b");
  headers.append("set-cookie", "one=1");
  headers.append("Set-Cookie", "two=2");
  seen.push(headers.get("grpc-status"), headers.get("X-MULTI"), headers.get("absent"), headers.has("x-Jobworker-Code"));
  seen.push([...headers], [...headers.keys()], [...headers.values()], headers.getSetCookie());
  headers.set("x-multi", "c");
  headers.delete("GRPC-STATUS");
  const each: string[] = [];
  headers.forEach((value, key) => {
    each.push(`${key}=${value}`);
  });
  seen.push(each, headers.has("grpc-status"), headers.get("x-multi"));
  return seen;
}

describe("MinimalHeaders", () => {
  it("reads back what Node's Headers does for every operation Connect uses", () => {
    expect(exercise(() => new MinimalHeaders())).toEqual(exercise(() => new Headers()));
  });

  it("is made from a record, from pairs and from another Headers, as Node's is", () => {
    const inits = [
      { "Content-Type": "application/grpc", te: "trailers" },
      [
        ["b", "2"],
        ["A", "1"],
        ["a", "3"],
      ],
      new MinimalHeaders({ Accept: "x" }),
    ] as const;
    for (const init of inits) {
      const reference =
        init instanceof MinimalHeaders
          ? new Headers([...init])
          : new Headers(init as ConstructorParameters<typeof Headers>[0]);
      expect([...new MinimalHeaders(init)]).toEqual([...reference]);
    }
    expect([...new MinimalHeaders(undefined)]).toEqual([]);
  });

  it("refuses what is not headers, as Node's does", () => {
    expect(() => new MinimalHeaders("a: b" as never)).toThrow(TypeError);
    expect(() => new MinimalHeaders([["only-a-name"]])).toThrow(TypeError);
  });

  it("is what the bundle's Connect code uses for the global Headers (esbuild inject), so it never loads undici", async () => {
    const { readFile } = await import("node:fs/promises");
    const bundle = await readFile(new URL("../../dist/runjob.js", import.meta.url), "utf8");
    // createHandlerContext of @connectrpc/connect (implementation.js), which runjob ui's forwarding handlers use.
    // The page runjob ui embeds (a string in the bundle) keeps the browser's own Headers: only code is rewritten.
    expect(bundle.includes("requestHeader: new MinimalHeaders(init.requestHeader)")).toBe(true);
    expect(bundle.includes("requestHeader: new Headers(init.requestHeader)")).toBe(false);
  });
});
