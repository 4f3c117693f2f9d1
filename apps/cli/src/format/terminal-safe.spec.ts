import { create } from "@bufbuild/protobuf";
import { JobSchema } from "@jobworker/proto";
import { describe, expect, it } from "vitest";
import { commandLine, jobStatus, jobTable } from "./job-text.js";
import { isControl, terminalSafe } from "./terminal-safe.js";

describe("text output of what a job was named", () => {
  const hostile = create(JobSchema, {
    id: "00000000-0000-4000-8000-000000000000",
    owner: "mallory\u001b[2J",
    command: "/bin/echo",
    args: ["\u001b]0;pwned\u0007", "it's", "plain"],
    endDetail: "line\nbreak",
  });

  it("shows control characters as escapes, never raw, in list and status", () => {
    const outputs = [jobTable([hostile], 500), jobStatus(hostile)];
    // Line breaks between fields are the only control characters the output itself writes.
    for (const output of outputs) expect([...output].filter((char) => isControl(char) && char !== "\n")).toEqual([]);
    expect(commandLine(hostile)).toBe("/bin/echo $'\\e]0;pwned\\x07' 'it'\\''s' plain");
    expect(jobStatus(hostile)).toContain("Owner:        mallory\\e[2J");
    expect(jobStatus(hostile)).toContain("Detail:       line\\nbreak");
  });

  it("leaves ordinary text alone", () => {
    expect(terminalSafe("héllo wörld ✓")).toBe("héllo wörld ✓");
  });
});
