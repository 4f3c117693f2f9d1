/**
 * Puts a time in front of every line of output, as `docker logs -t` does: the
 * time the server learned of the line's first byte, RFC 3339 in UTC with
 * milliseconds. Keeps track of line starts across chunks.
 */
export class LineStamper {
  private atLineStart = true;

  /** `data` with `time` before each line that begins in it. */
  stamp(data: Uint8Array, time: number): Uint8Array {
    const prefix = Buffer.from(`${new Date(time).toISOString()} `);
    const parts: Uint8Array[] = [];
    let from = 0;
    for (let i = 0; i < data.length; i++) {
      if (this.atLineStart) {
        parts.push(data.subarray(from, i), prefix);
        from = i;
        this.atLineStart = false;
      }
      if (data[i] === 0x0a) this.atLineStart = true;
    }
    parts.push(data.subarray(from));
    return Buffer.concat(parts);
  }
}
