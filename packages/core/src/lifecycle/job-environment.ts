import { DEFAULT_PATH } from "../options.js";

/**
 * The job's environment: exactly what was asked for, plus PATH, HOME and
 * TMPDIR defaults when absent. Nothing of the server's environment leaks in.
 */
export function jobEnvironment(requested: Record<string, string> | undefined, home: string): Record<string, string> {
  return { PATH: DEFAULT_PATH, HOME: home, TMPDIR: "/tmp", ...requested };
}
