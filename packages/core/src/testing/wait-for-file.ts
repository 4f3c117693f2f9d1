import { watch } from "node:fs";
import { access } from "node:fs/promises";
import { join } from "node:path";

/** Resolves once `name` exists in `dir`: an inotify watch, then a check (so a file created in between counts). */
export function waitForFile(dir: string, name: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dir);
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`${name} did not appear in ${dir} within ${timeoutMs} ms`));
    }, timeoutMs);
    const check = () =>
      access(join(dir, name)).then(
        () => {
          clearTimeout(timer);
          watcher.close();
          resolve();
        },
        () => {},
      );
    watcher.on("change", (_event, file) => {
      if (file === name) void check();
    });
    void check();
  });
}
