import { type FSWatcher, watch } from "node:fs";
import { access, stat } from "node:fs/promises";
import { join } from "node:path";
import { EXIT_RECORD_FILE } from "@jobworker/helper";

/** How often, at most, a growing output's size is checked against the job's limit. */
const SIZE_CHECK_INTERVAL_MS = 25;
/**
 * When output events come closer together than this, the watch rests this
 * long: a job that writes a byte per call gets 200 wake-ups a second, not one
 * per write. A lone event (a line now and then, the launcher setting the
 * output's flags) is handled at once, and the watch stays open.
 */
const SNOOZE_MS = 5;

export interface JobWatchEvents {
  /** The output may have grown: wake its readers. Cheap; at most once per few milliseconds while the job writes. */
  onOutput(): void;
  /** The output's size and allocated blocks, at most once per SIZE_CHECK_INTERVAL_MS while it grows. */
  onOutputSize(info: { size: number; blocks: number }): void;
  /** The launcher's exit record has appeared. */
  onExitRecord(): void;
  onError(error: unknown): void;
}

/**
 * One directory watch per job (inotify, shared by all of its readers): output
 * growth and the exit record's arrival.
 *
 * Every write of the job is an inotify event; a job writing a byte per call
 * would cost the server as much CPU as it spends itself. So when output events
 * come in quick succession the watch is closed for a few milliseconds, then
 * opened again, and whatever happened meanwhile is taken as having happened:
 * readers are woken (they re-read from their offset) and the exit record is
 * looked for. A follower of a busy job sees new bytes at most SNOOZE_MS late;
 * nothing is missed.
 *
 * The size check is throttled too: the kernel already holds the output at its
 * limit (RLIMIT_FSIZE), so a check a few milliseconds late costs nothing.
 */
export function watchJobDir(jobDir: string, logPath: string, events: JobWatchEvents): { close(): void } {
  let watcher: FSWatcher | undefined;
  let sizeCheck: NodeJS.Timeout | undefined;
  let snoozing: NodeJS.Timeout | undefined;
  let closed = false;
  let lastOutputEvent = Number.NEGATIVE_INFINITY;

  const checkSize = () => {
    sizeCheck = undefined;
    stat(logPath).then(
      (info) => closed || events.onOutputSize(info),
      () => {}, // the job dir is gone: the job was deleted
    );
  };
  const outputGrew = () => {
    events.onOutput();
    sizeCheck ??= setTimeout(checkSize, SIZE_CHECK_INTERVAL_MS);
  };
  const open = () => {
    watcher = watch(jobDir, (_event, file) => {
      if (file === "output.log") {
        outputGrew();
        const now = performance.now();
        if (now - lastOutputEvent < SNOOZE_MS) snooze();
        lastOutputEvent = now;
      } else if (file === EXIT_RECORD_FILE) {
        events.onExitRecord();
      }
    });
    watcher.on("error", events.onError);
  };
  const snooze = () => {
    if (snoozing || closed) return;
    watcher?.close();
    watcher = undefined;
    snoozing = setTimeout(() => {
      snoozing = undefined;
      if (closed) return;
      open(); // first, so that nothing from here on is missed
      outputGrew();
      access(join(jobDir, EXIT_RECORD_FILE)).then(
        () => closed || events.onExitRecord(),
        () => {},
      );
    }, SNOOZE_MS);
  };

  open();
  return {
    close() {
      closed = true;
      clearTimeout(sizeCheck);
      clearTimeout(snoozing);
      watcher?.close();
    },
  };
}
