import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CgroupWrite } from "./controller.js";

// cgroupfs files live in kernel memory: a synchronous call costs microseconds,
// a round trip through libuv's thread pool far more, and starting a job makes
// a dozen of them. So these calls are synchronous; they stay async functions
// so failures arrive as rejections like everywhere else.

/** Writes one cgroup control file, naming the file in the error the kernel gives. */
export async function writeControl(dir: string, file: string, value: string): Promise<void> {
  await writeControlFile(join(dir, file), value);
}

/** Makes each write in order (a controller's `writes`), naming the file of one that fails. */
export async function writeControlFiles(writes: readonly CgroupWrite[]): Promise<void> {
  for (const [file, value] of writes) await writeControlFile(file, value);
}

/** `writeControl`, for a path already joined. */
export async function writeControlFile(path: string, value: string): Promise<void> {
  try {
    writeFileSync(path, value);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`writing ${JSON.stringify(value)} to ${path} failed: ${code}`, { cause: error });
  }
}

/** Reads a control file, or undefined when the kernel does not offer it. */
export async function readControl(dir: string, file: string): Promise<string | undefined> {
  return readControlFile(join(dir, file));
}

/** `readControl`, for a path already joined, and synchronous: what a ControlReader is. */
export function readControlFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Parses "key value" lines (cpu.stat, memory.events, memory.oom_control) into a map. */
export function parseKeyValues(text: string | undefined): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of (text ?? "").split("\n")) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined) values.set(key, Number(value));
  }
  return values;
}
