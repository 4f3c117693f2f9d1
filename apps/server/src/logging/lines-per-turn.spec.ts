import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { linesPerTurn } from "./lines-per-turn.js";

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("log lines written a turn at a time", () => {
  it("writes the lines of one turn in one write once the turn is over, and each later turn's in its own", async () => {
    const writes: string[] = [];
    const destination = linesPerTurn({ write: (text: string) => writes.push(text) });
    destination.write("a\n");
    destination.write("b\n");
    destination.write("c\n");
    expect(writes).toEqual([]);
    await nextTurn();
    expect(writes).toEqual(["a\nb\nc\n"]);
    destination.write("d\n");
    await nextTurn();
    await nextTurn();
    expect(writes).toEqual(["a\nb\nc\n", "d\n"]);
  });

  it("writes what is pending when the process exits in the same turn (needs the server built)", () => {
    const module = fileURLToPath(new URL("../../dist/logging/log-format.js", import.meta.url));
    const script = `
      const { createServerLogger } = await import(${JSON.stringify(module)});
      const logger = createServerLogger("info", "json");
      logger.info("first");
      logger.info("last words");
      process.exit(0);
    `;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(
      out
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line).msg),
    ).toEqual(["first", "last words"]);
  });
});
