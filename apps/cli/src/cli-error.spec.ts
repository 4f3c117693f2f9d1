import { Code, ConnectError } from "@connectrpc/connect";
import { ERROR_CODE_KEY } from "@jobworker/proto";
import { describe, expect, it } from "vitest";
import { CliError, describeError } from "./cli-error.js";

const server = "build-01:8443";

describe("describeError", () => {
  it("keeps the code the server sent, with a line that says what to do", () => {
    const error = new ConnectError("job 3f2a not found", Code.NotFound, { [ERROR_CODE_KEY]: "JW_ERR_NOT_FOUND" });
    expect(describeError(error, server)).toEqual({
      code: "JW_ERR_NOT_FOUND",
      message: "job 3f2a not found (see 'runjob list')",
    });
    const adminOnly = new ConnectError("only an admin may", Code.PermissionDenied, {
      [ERROR_CODE_KEY]: "JW_ERR_ADMIN_ONLY",
    });
    expect(describeError(adminOnly, server).code).toBe("JW_ERR_ADMIN_ONLY");
  });

  it("takes the code of the status when the server sent none", () => {
    const error = new ConnectError("message is larger than configured", Code.ResourceExhausted);
    expect(describeError(error, server)).toEqual({
      code: "JW_ERR_RESOURCE_EXHAUSTED",
      message: "the server is busy: message is larger than configured; try again later",
    });
  });

  it("names an unreachable server and a failed handshake with codes of their own", () => {
    const refused = new ConnectError("connect ECONNREFUSED 127.0.0.1:1", Code.Unavailable);
    expect(describeError(refused, server)).toMatchObject({ code: "JW_ERR_UNREACHABLE" });
    const handshake = new ConnectError("unable to verify the first certificate", Code.Unavailable);
    expect(describeError(handshake, server)).toMatchObject({ code: "JW_ERR_TLS" });
  });

  it("passes runjob's own errors through, and reports oclif's parse errors as usage errors", () => {
    expect(describeError(new CliError("JW_ERR_AMBIGUOUS_ID", "prefix 3f is ambiguous"), server)).toEqual({
      code: "JW_ERR_AMBIGUOUS_ID",
      message: "prefix 3f is ambiguous",
    });
    const parse = Object.assign(new Error("Missing 1 required arg:\nid  job id"), { oclif: { exit: 2 } });
    expect(describeError(parse, server)).toEqual({
      code: "JW_ERR_USAGE",
      message: "Missing 1 required arg: id  job id",
    });
  });
});
