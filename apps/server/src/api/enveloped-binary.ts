/**
 * Where a message carries its own binary encoding for the patched connect-es
 * (patches/@connectrpc__connect@2.3.0.patch, envelopedBinary): 5 free bytes for
 * the envelope, then the message. Connect writes the envelope's flags and
 * length there and sends that buffer as it is; JSON ignores it and encodes the
 * message's fields.
 */
const ENVELOPED_BINARY = Symbol.for("@connectrpc/connect/enveloped-binary");

/** Free bytes a frame starts with, for the envelope's flags and length. */
export const ENVELOPE_BYTES = 5;

/** Gives `message` its binary encoding, `frame`: ENVELOPE_BYTES free, then exactly what protobuf-es would write. */
export function attachFrame(message: object, frame: Uint8Array): void {
  Object.defineProperty(message, ENVELOPED_BINARY, { value: frame });
}

/** The frame {@link attachFrame} gave `message`, if any. */
export function attachedFrame(message: object): Uint8Array | undefined {
  return (message as Record<symbol, Uint8Array | undefined>)[ENVELOPED_BINARY];
}

/** Writes `value` (a non-negative safe integer) as a protobuf varint at `at`; returns the position after it. */
export function writeVarint(into: Uint8Array, at: number, value: number): number {
  let rest = value;
  while (rest >= 0x80) {
    into[at++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  into[at++] = rest;
  return at;
}

/** How many bytes {@link writeVarint} writes for `value`. */
export function varintLength(value: number): number {
  let length = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) length++;
  return length;
}
