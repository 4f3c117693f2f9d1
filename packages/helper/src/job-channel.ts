import { once } from "node:events";
import { createConnection, type Socket } from "node:net";
import { join } from "node:path";
import type { TerminalSize } from "./launch-spec.js";

/** File name of the socket a running job's launcher listens on, in the job dir. */
export const ATTACH_SOCKET_FILE = "attach.sock";

/** Largest message the launcher takes after its header (MAX_MESSAGE_BYTES in launcher/launcher.h). */
const MAX_MESSAGE_BYTES = 16_384;
const HEADER_BYTES = 5;
const INPUT = 1;
const CLOSE_STDIN = 2;
const RESIZE = 3;
const SIGNAL = 4;

/**
 * A connection to a running job's launcher, through `<job-dir>/attach.sock`
 * (protocol in launcher/attach.c): input for the job's stdin or terminal, its
 * EOF, the terminal's window size, and signals for the job's main process.
 *
 * Input is flow-controlled end to end: the launcher holds one message while
 * the job does not read, stops reading the socket, and `write` resolves only
 * once the socket has taken the bytes. A caller that awaits each write holds
 * at most one socket buffer of input, however much it is sent. Messages on one
 * connection are handled in order, so a signal or resize sent behind input the
 * job is not reading waits for it: send those on a connection of their own.
 */
export class JobChannel {
  private failure?: Error;

  private constructor(private readonly socket: Socket) {
    socket.on("error", (error) => {
      this.failure = error;
    });
  }

  /**
   * Connects to the job's launcher. Rejects with ENOENT or ECONNREFUSED when
   * none listens: the job has ended, or was started before jobs had a socket.
   */
  static async connect(jobDir: string): Promise<JobChannel> {
    const socket = createConnection({ path: join(jobDir, ATTACH_SOCKET_FILE) });
    try {
      await once(socket, "connect");
    } catch (error) {
      socket.destroy();
      throw error;
    }
    return new JobChannel(socket);
  }

  /** Sends bytes to the job's stdin; resolves once the socket has taken them (so the job is reading). */
  async write(data: Uint8Array): Promise<void> {
    for (let at = 0; at < data.length; at += MAX_MESSAGE_BYTES) {
      await this.send(INPUT, data.subarray(at, at + MAX_MESSAGE_BYTES));
    }
  }

  /** The job reads EOF once what was written before has been read (a terminal gets its EOF character). */
  closeInput(): Promise<void> {
    return this.send(CLOSE_STDIN, new Uint8Array(0));
  }

  /** Sets the job's terminal's window size (the job gets SIGWINCH); ignored for a job without a terminal. */
  resize(size: TerminalSize): Promise<void> {
    const payload = Buffer.alloc(4);
    payload.writeUInt16LE(clampCells(size.rows), 0);
    payload.writeUInt16LE(clampCells(size.columns), 2);
    return this.send(RESIZE, payload);
  }

  /** Sends a signal (by number) to the job's main process, as `kill` would, whatever the signal. */
  signal(signal: number): Promise<void> {
    const payload = Buffer.alloc(4);
    payload.writeInt32LE(signal, 0);
    return this.send(SIGNAL, payload);
  }

  /** Closes the connection. The job's stdin stays open for other connections (or a later one). */
  close(): void {
    this.socket.destroy();
  }

  private async send(type: number, payload: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt32LE(payload.length + 1, 0);
    header.writeUInt8(type, 4);
    // The header and payload in one write: messages of concurrent writers never interleave.
    const message = Buffer.concat([header, payload]);
    await new Promise<void>((resolve, reject) => {
      this.socket.write(message, (error) => (error ? reject(error) : resolve()));
    });
  }
}

/** A window size the launcher's u16 fields hold; 0 is left to the terminal (unknown). */
function clampCells(cells: number): number {
  return Math.max(0, Math.min(0xffff, Math.trunc(cells)));
}
