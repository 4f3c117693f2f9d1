import { Code, ConnectError } from "@connectrpc/connect";
import { JOB_ERROR_CODES, JobError } from "@jobworker/core";
import { ERROR_CODE_KEY, SPECIFIC_ERROR_CODES, STATUS_ERROR_CODES, statusErrorCode } from "@jobworker/proto";
import { describe, expect, it } from "vitest";
import { STATUS_OF } from "./error-codes.js";
import { apiError, toConnectError } from "./errors.js";

describe("the error model at the server's edge", () => {
  it("maps each core code one-to-one to its Connect code and the stable code of that status", () => {
    const mapped = Object.fromEntries(
      JOB_ERROR_CODES.map((code) => {
        const error = toConnectError(new JobError(code, "what happened"), "req-1");
        return [code, [Code[error.code], error.metadata.get(ERROR_CODE_KEY)]];
      }),
    );
    expect(mapped).toEqual({
      invalid_argument: ["InvalidArgument", "JW_ERR_INVALID_ARGUMENT"],
      not_found: ["NotFound", "JW_ERR_NOT_FOUND"],
      already_exists: ["AlreadyExists", "JW_ERR_ALREADY_EXISTS"],
      failed_precondition: ["FailedPrecondition", "JW_ERR_FAILED_PRECONDITION"],
      resource_exhausted: ["ResourceExhausted", "JW_ERR_RESOURCE_EXHAUSTED"],
      internal: ["Internal", "JW_ERR_INTERNAL"],
    });
  });

  it("keeps a domain error's message for the client", () => {
    expect(toConnectError(new JobError("not_found", "job 1 not found"), "req-1").rawMessage).toBe("job 1 not found");
  });

  it("gives Internal only the request id, whatever the error held", () => {
    const secret = "open /var/lib/jobworker/jobs/x/exit.json: EACCES";
    for (const error of [new JobError("internal", secret), new Error(secret), secret]) {
      const mapped = toConnectError(error, "req-42");
      expect(mapped.code).toBe(Code.Internal);
      expect(mapped.rawMessage).toBe("internal error (request req-42)");
      expect(mapped.metadata.get(ERROR_CODE_KEY)).toBe("JW_ERR_INTERNAL");
      expect(JSON.stringify([mapped.message, [...mapped.metadata], mapped.details])).not.toContain("EACCES");
    }
  });

  it("gives Connect's own errors the code of their status and keeps codes already set", () => {
    const tooLarge = toConnectError(
      new ConnectError("message size is larger than configured", Code.ResourceExhausted),
      "r",
    );
    expect(tooLarge.metadata.get(ERROR_CODE_KEY)).toBe("JW_ERR_RESOURCE_EXHAUSTED");
    const adminOnly = toConnectError(apiError("JW_ERR_ADMIN_ONLY", "only an admin may"), "r");
    expect([adminOnly.code, adminOnly.metadata.get(ERROR_CODE_KEY)]).toEqual([
      Code.PermissionDenied,
      "JW_ERR_ADMIN_ONLY",
    ]);
  });

  it("sends each status code with the status it names", () => {
    for (const code of STATUS_ERROR_CODES) expect(statusErrorCode(Code[STATUS_OF[code]])).toBe(code);
  });

  it("sends each specific code with one fixed status", () => {
    expect(Object.fromEntries(SPECIFIC_ERROR_CODES.map((code) => [code, Code[STATUS_OF[code]]]))).toEqual({
      JW_ERR_NO_ROLE: "PermissionDenied",
      JW_ERR_ADMIN_ONLY: "PermissionDenied",
      JW_ERR_MALFORMED_JOB_ID: "InvalidArgument",
    });
  });
});
