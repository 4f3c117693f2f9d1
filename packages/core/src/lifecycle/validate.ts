import { invalidArgument } from "../errors.js";
import type { StartRequest } from "../job.js";
import { validateJobName, validateLabels } from "../labels/job-labels.js";

/** Checks what the kernel would refuse or misread: empty commands, NUL bytes, malformed env names. */
export function validateStartRequest(request: StartRequest, maxRuntimeLimitMs: number): void {
  if (!request.command) throw invalidArgument("command must not be empty");
  const strings = [request.command, ...(request.args ?? []), request.workingDirectory ?? ""];
  for (const [name, value] of Object.entries(request.env ?? {})) {
    if (!name || name.includes("="))
      throw invalidArgument(`environment name ${JSON.stringify(name)} is empty or contains "="`);
    strings.push(name, value);
  }
  if (strings.some((value) => value.includes("\0")))
    throw invalidArgument("command, args and env must not contain NUL bytes");
  if (request.name !== undefined) validateJobName(request.name);
  if (request.labels) validateLabels(request.labels);
  const { maxRuntimeMs } = request;
  if (
    maxRuntimeMs !== undefined &&
    (!Number.isFinite(maxRuntimeMs) || maxRuntimeMs <= 0 || maxRuntimeMs > maxRuntimeLimitMs)
  ) {
    throw invalidArgument(`max runtime must be above 0 and at most ${maxRuntimeLimitMs} ms, got ${maxRuntimeMs}`);
  }
}
