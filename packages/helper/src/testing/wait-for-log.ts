import { watch } from "node:fs";
import { readFile } from "node:fs/promises";

/** Resolves once the log contains `text`: the watch is in place before the first read, so no write is missed. */
export function waitForLog(path: string, text: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(path);
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`${path} did not contain ${JSON.stringify(text)} within ${timeoutMs} ms`));
    }, timeoutMs);
    const check = () =>
      readFile(path, "utf8").then((content) => {
        if (!content.includes(text)) return;
        clearTimeout(timer);
        watcher.close();
        resolve();
      }, reject);
    watcher.on("change", () => void check());
    void check();
  });
}
