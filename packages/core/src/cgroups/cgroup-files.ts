import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Writes one cgroup control file, naming the file in the error the kernel gives. */
export async function writeControl(dir: string, file: string, value: string): Promise<void> {
  try {
    await writeFile(join(dir, file), value);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`writing ${JSON.stringify(value)} to ${join(dir, file)} failed: ${code}`, { cause: error });
  }
}

/** Reads a control file, or undefined when the kernel does not offer it. */
export async function readControl(dir: string, file: string): Promise<string | undefined> {
  try {
    return await readFile(join(dir, file), "utf8");
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
