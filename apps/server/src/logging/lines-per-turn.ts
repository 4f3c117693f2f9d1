import type { DestinationStream } from "pino";

/** Where the lines go: pino's own destination (sonic-boom), or anything that writes text. */
interface LineSink {
  write(text: string): unknown;
  flushSync?(): void;
}

/**
 * A log destination that writes the lines logged in one turn of the event
 * loop in one write, at the end of that turn. A busy server logs a line or
 * two per call and completes several calls a turn; a write per line cost it
 * as much as the rest of its logging. No line waits beyond its turn, and what
 * is pending when the process exits is written before it goes.
 */
export function linesPerTurn(sink: LineSink): DestinationStream {
  let pending = "";
  const flush = () => {
    if (pending === "") return;
    const text = pending;
    pending = "";
    sink.write(text);
  };
  process.once("exit", () => {
    flush();
    try {
      sink.flushSync?.();
    } catch {
      // A write still in flight: the sink's own exit handler finishes it.
    }
  });
  return {
    write(line: string) {
      if (pending === "") setImmediate(flush);
      pending += line;
    },
  };
}
