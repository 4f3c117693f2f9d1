import { type FSWatcher, watch } from "node:fs";
import { stat } from "node:fs/promises";
import { EXIT_RECORD_FILE } from "@jobworker/helper";

/** How often, at most, a growing output's size is checked against the job's limit. */
const SIZE_CHECK_INTERVAL_MS = 25;

export interface JobWatchEvents {
  /** The output grew: wake its readers. Called for every event, and cheap. */
  onOutput(): void;
  /** The output's size and allocated blocks, at most once per SIZE_CHECK_INTERVAL_MS while it grows. */
  onOutputSize(info: { size: number; blocks: number }): void;
  /** The launcher's exit record has appeared. */
  onExitRecord(): void;
  onError(error: unknown): void;
}

/**
 * One directory watch per job (inotify, shared by all of its readers): output
 * growth and the exit record's arrival. The size check is throttled: the
 * kernel already holds the output at its limit (RLIMIT_FSIZE), so a check a
 * few milliseconds late costs nothing, while a check per write would cost the
 * server a stat for every write the job makes.
 */
export function watchJobDir(jobDir: string, logPath: string, events: JobWatchEvents): { close(): void } {
  let sizeCheck: NodeJS.Timeout | undefined;
  let closed = false;
  const checkSize = () => {
    sizeCheck = undefined;
    stat(logPath).then(
      (info) => closed || events.onOutputSize(info),
      () => {}, // the job dir is gone: the job was deleted
    );
  };
  const watcher: FSWatcher = watch(jobDir, (_event, file) => {
    if (file === "output.log") {
      events.onOutput();
      sizeCheck ??= setTimeout(checkSize, SIZE_CHECK_INTERVAL_MS);
    } else if (file === EXIT_RECORD_FILE) {
      events.onExitRecord();
    }
  });
  watcher.on("error", events.onError);
  return {
    close() {
      closed = true;
      clearTimeout(sizeCheck);
      watcher.close();
    },
  };
}
