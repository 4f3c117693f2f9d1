import { open } from "node:fs/promises";

/** Bytes read from the end of the log per step when looking for the last lines. */
const TAIL_BLOCK_BYTES = 4096;

/**
 * Where the last `lines` lines of a file begin, read from its end backwards in
 * 4 KiB blocks: the cost is about the size of those lines, not of the file. A
 * last line without a newline counts as a line. `bytesRead` says how much was
 * read (the tests hold it to a few KiB).
 */
export async function tailOffset(path: string, lines: number): Promise<{ offset: number; bytesRead: number }> {
  const file = await open(path, "r");
  try {
    const size = (await file.stat()).size;
    if (lines <= 0 || size === 0) return { offset: size, bytesRead: 0 };
    const block = Buffer.allocUnsafe(TAIL_BLOCK_BYTES);
    let end = size;
    let bytesRead = 0;
    let found = 0;
    // A final newline ends the last line; it does not start another.
    let skipFinal = true;
    while (end > 0) {
      const start = Math.max(0, end - TAIL_BLOCK_BYTES);
      const { bytesRead: read } = await file.read(block, 0, end - start, start);
      bytesRead += read;
      for (let i = read - 1; i >= 0; i--) {
        if (block[i] !== 0x0a) {
          skipFinal = false;
          continue;
        }
        if (skipFinal) {
          skipFinal = false;
          continue;
        }
        found++;
        if (found === lines) return { offset: start + i + 1, bytesRead };
      }
      end = start;
    }
    return { offset: 0, bytesRead };
  } finally {
    await file.close();
  }
}
