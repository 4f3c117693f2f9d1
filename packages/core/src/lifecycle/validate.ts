import { invalidArgument } from "../errors.js";
import type { StartRequest, TerminalSize } from "../job.js";
import { validateJobName, validateLabels } from "../labels/job-labels.js";

/** A window size the kernel's u16 fields hold. */
export function validateTerminalSize(size: TerminalSize): void {
  for (const [name, cells] of [
    ["rows", size.rows],
    ["columns", size.columns],
  ] as const) {
    if (!Number.isInteger(cells) || cells < 1 || cells > 65_535) {
      throw invalidArgument(`terminal ${name} must be between 1 and 65535, got ${cells}`);
    }
  }
}

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
  if (request.terminalSize) validateTerminalSize(request.terminalSize);
  const { maxRuntimeMs } = request;
  if (
    maxRuntimeMs !== undefined &&
    (!Number.isFinite(maxRuntimeMs) || maxRuntimeMs <= 0 || maxRuntimeMs > maxRuntimeLimitMs)
  ) {
    throw invalidArgument(`max runtime must be above 0 and at most ${maxRuntimeLimitMs} ms, got ${maxRuntimeMs}`);
  }
}
