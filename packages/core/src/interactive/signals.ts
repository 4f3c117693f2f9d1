import { constants } from "node:os";
import { invalidArgument } from "../errors.js";

const signalNumbers = constants.signals as Readonly<Record<string, number>>;

/**
 * A signal named as people write it: "SIGTERM", "TERM", "term" or "15".
 * Returns its number; `invalid_argument` for anything else.
 */
export function parseSignal(signal: string | number): number {
  if (typeof signal === "number") {
    if (Number.isInteger(signal) && signal > 0 && signal <= 64) return signal;
    throw invalidArgument(`signal must be between 1 and 64, got ${signal}`);
  }
  const text = signal.trim();
  if (/^\d+$/.test(text)) return parseSignal(Number(text));
  const upper = text.toUpperCase();
  const number = signalNumbers[upper.startsWith("SIG") ? upper : `SIG${upper}`];
  if (number === undefined)
    throw invalidArgument(`unknown signal ${JSON.stringify(signal)}: use a name like TERM, INT, KILL or a number`);
  return number;
}
