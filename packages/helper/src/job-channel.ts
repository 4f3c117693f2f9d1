import { once } from "node:events";
import { open } from "node:fs/promises";
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
const EXEC = 5;
const EXEC_STDOUT = 16;
const EXEC_STDERR = 17;
const EXEC_EXIT = 18;
const EXEC_FAILED = 19;

/** A process to run in a job (see `JobChannel.exec`). */
export interface ExecSpec {
  /** argv[0] is looked up in `env`'s PATH, as execvp does. */
  argv: readonly string[];
  /** The process's whole environment. */
  env: Readonly<Record<string, string>>;
  /** Give it a terminal of the job's devpts, of this size; without, three pipes. */
  terminalSize?: TerminalSize;
}

/** What an exec'd process did: output, then how it ended or why it could not run. */
export type ExecEvent =
  | { kind: "stdout" | "stderr"; data: Uint8Array }
  | { kind: "exit"; status: number }
  | { kind: "failed"; errno: number; what: string };

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
    // Through the job dir's fd, as the launcher binds it: a socket's path holds at most 107 bytes.
    const dir = await open(jobDir, "r");
    try {
      const socket = createConnection({ path: join(`/proc/self/fd/${dir.fd}`, ATTACH_SOCKET_FILE) });
      try {
        await once(socket, "connect");
      } catch (error) {
        socket.destroy();
        throw error;
      }
      return new JobChannel(socket);
    } finally {
      await dir.close();
    }
  }

  /** Sends bytes to the job's stdin; resolves once the socket has taken them (so the job is reading). */
  async write(data: Uint8Array): Promise<void> {
    // All of `data`'s messages are queued at once and the last one awaited: the
    // socket takes them in order, and at most `data` waits in this process.
    const sent: Promise<void>[] = [];
    for (let at = 0; at < data.length; at += MAX_MESSAGE_BYTES) {
      sent.push(this.send(INPUT, data.subarray(at, at + MAX_MESSAGE_BYTES)));
    }
    await Promise.all(sent);
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

  /**
   * Runs another process in the job, in its namespaces, cgroups, uid and
   * seccomp filter (launcher/exec.c). This connection then belongs to the
   * process: `write`, `closeInput`, `resize` and `signal` go to it, and
   * `execEvents` yields what it does. Closing the connection kills it.
   */
  exec(spec: ExecSpec): Promise<void> {
    const strings = [...spec.argv, ...Object.entries(spec.env).map(([name, value]) => `${name}=${value}`)];
    const head = Buffer.alloc(13);
    head.writeUInt8(spec.terminalSize ? 1 : 0, 0);
    head.writeUInt16LE(clampCells(spec.terminalSize?.rows ?? 0), 1);
    head.writeUInt16LE(clampCells(spec.terminalSize?.columns ?? 0), 3);
    head.writeUInt32LE(spec.argv.length, 5);
    head.writeUInt32LE(strings.length - spec.argv.length, 9);
    const payload = Buffer.concat([head, ...strings.map((text) => Buffer.from(`${text}\0`))]);
    if (payload.length > MAX_MESSAGE_BYTES) {
      throw new RangeError(`an exec request may be at most ${MAX_MESSAGE_BYTES} bytes, got ${payload.length}`);
    }
    return this.send(EXEC, payload);
  }

  /** The events of an exec'd process, read as they are consumed (a slow consumer slows the process). */
  async *execEvents(): AsyncGenerator<ExecEvent> {
    let buffered: Buffer = Buffer.alloc(0);
    for await (const chunk of this.socket) {
      buffered = buffered.length === 0 ? (chunk as Buffer) : Buffer.concat([buffered, chunk as Buffer]);
      while (buffered.length >= HEADER_BYTES) {
        const length = buffered.readUInt32LE(0);
        if (buffered.length < 4 + length) break;
        const type = buffered.readUInt8(4);
        const payload = buffered.subarray(HEADER_BYTES, 4 + length);
        buffered = buffered.subarray(4 + length);
        if (type === EXEC_STDOUT) yield { kind: "stdout", data: payload };
        else if (type === EXEC_STDERR) yield { kind: "stderr", data: payload };
        else if (type === EXEC_EXIT) return yield { kind: "exit", status: payload.readInt32LE(0) };
        else if (type === EXEC_FAILED) {
          return yield { kind: "failed", errno: payload.readInt32LE(0), what: payload.subarray(4).toString() };
        }
      }
    }
    if (this.failure) throw this.failure;
    throw new Error("the launcher closed the exec connection without the process's end");
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
