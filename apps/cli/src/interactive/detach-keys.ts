import { CliError } from "../cli-error.js";

/** Docker's default: Ctrl-P, then Ctrl-Q. */
export const DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q";

/**
 * Parses a detach sequence as docker writes it: comma-separated keys, each a
 * single character or ctrl-<key> (ctrl-a … ctrl-z, ctrl-@, ctrl-[, ctrl-\,
 * ctrl-], ctrl-^, ctrl-_).
 */
export function parseDetachKeys(text: string): Uint8Array {
  const bytes: number[] = [];
  for (const key of text.split(",")) {
    const control = /^ctrl-(.)$/i.exec(key);
    if (control) {
      const code = (control[1] ?? "").toUpperCase().charCodeAt(0);
      if (code < 0x40 || code > 0x5f) throw badKeys(text, key);
      bytes.push(code & 0x1f);
    } else if (key.length === 1) {
      bytes.push(key.charCodeAt(0));
    } else {
      throw badKeys(text, key);
    }
  }
  return Uint8Array.from(bytes);
}

function badKeys(text: string, key: string): CliError {
  return new CliError(
    "JW_ERR_USAGE",
    `--detach-keys ${JSON.stringify(text)}: ${JSON.stringify(key)} is not a key; use a character or ctrl-<a-z, @, [, \\, ], ^, _>, comma-separated (default ${DEFAULT_DETACH_KEYS})`,
  );
}

/**
 * Watches typed bytes for the detach sequence. Bytes that might start it are
 * held back until the next key shows whether it does; a sequence that does
 * not complete is sent on as typed.
 */
export class DetachMatcher {
  private matched = 0;

  constructor(private readonly keys: Uint8Array) {}

  /** The bytes to send for `data`, and whether the sequence was completed (what follows it is dropped). */
  feed(data: Uint8Array): { send: Uint8Array; detach: boolean } {
    const send: number[] = [];
    for (const byte of data) {
      if (this.keys.length > 0 && byte === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) return { send: Uint8Array.from(send), detach: true };
        continue;
      }
      // A broken sequence: what was held back goes out, and this byte may start a new one.
      send.push(...this.keys.subarray(0, this.matched));
      this.matched = 0;
      if (this.keys.length > 0 && byte === this.keys[0]) this.matched = 1;
      else send.push(byte);
    }
    return { send: Uint8Array.from(send), detach: false };
  }
}
