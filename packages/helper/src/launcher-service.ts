import { type ChildProcess, spawn } from "node:child_process";
import type { Socket } from "node:net";
import { endianness } from "node:os";
import { fileURLToPath } from "node:url";
import { LaunchError } from "./launch-error.js";
import { type LaunchSpec, toLauncherArgs } from "./launch-spec.js";

/** Path of the compiled launcher binary (built by this package's build step). */
export const launcherPath = fileURLToPath(new URL("../dist/jobworker-launcher", import.meta.url));

/** A job whose program is running. */
export interface LaunchedJob {
  /** Pid of the job's init as the host sees it. For diagnostics only: never signal it. */
  initPid: number;
  /** Pid of the job's launcher, which owns the job and writes its exit record. */
  launcherPid: number;
  /**
   * The launcher's start time (field 22 of its /proc/PID/stat), as it read it:
   * with the pid, it names the launcher uniquely. Absent when it could not.
   */
  launcherStartTime?: string;
  /**
   * Resolves true once the launcher has exited, after writing the exit record;
   * false if the service stopped first, so its exit can no longer be reported.
   */
  launcherExited: Promise<boolean>;
}

interface PendingLaunch {
  resolve(job: LaunchedJob): void;
  reject(error: Error): void;
  /** An error handshake: the launch fails once its launcher has wound down. */
  failure?: LaunchError;
}

/**
 * Starts jobs through one long-lived `jobworker-launcher --serve` process,
 * which forks a launcher per job (protocol in launcher/launcher.c). Forking that small
 * process is far cheaper than forking this one, and this event loop never
 * stops for a fork. The service is spawned on first use and again if it dies.
 */
export class LauncherService {
  private service?: { child: ChildProcess; socket: Socket; exited: Promise<void> };
  private nextId = 1;
  private readonly pending = new Map<number, PendingLaunch>();
  /** Request id of each forked launcher that has not answered yet. */
  private readonly requestOfPid = new Map<number, number>();
  /** Exit waiters of running launchers, by pid. */
  private readonly exits = new Map<number, (known: boolean) => void>();
  private closed = false;

  constructor(private readonly onWarning: (message: string) => void = (message) => process.emitWarning(message)) {}

  /** Pid of the service process while one runs (for diagnostics). */
  get pid(): number | undefined {
    return this.service?.child.pid;
  }

  /**
   * Starts a job. Resolves once the job's program has been exec'd; rejects with
   * a LaunchError when a set-up step or the exec fails, once the launcher has
   * exited (so nothing writes to the job dir any more).
   */
  launch(spec: LaunchSpec): Promise<LaunchedJob> {
    if (this.closed) return Promise.reject(new Error("the launcher service is closed"));
    const id = this.nextId++;
    const request = encodeRequest(
      id,
      toLauncherArgs(spec),
      Object.entries(spec.env).map(([name, value]) => `${name}=${value}`),
    );
    return new Promise<LaunchedJob>((resolve, reject) => {
      const service = this.running();
      // A launch under way keeps the event loop alive, or a program whose only
      // work is `await start(...)` would exit before the reply came.
      const settle = () => {
        if (this.pending.size === 0) this.service?.socket.unref();
      };
      this.pending.set(id, {
        resolve: (job) => {
          resolve(job);
          settle();
        },
        reject: (error) => {
          reject(error);
          settle();
        },
      });
      service.socket.ref();
      service.socket.write(request);
    });
  }

  /** Stops the service. Launchers and their jobs keep running; their exits are no longer reported. */
  async close(): Promise<void> {
    this.closed = true;
    const service = this.service;
    if (!service) return;
    // Waiting for the exit keeps the event loop alive: `await close()` must settle, even as a program's last step.
    service.child.ref();
    service.socket.end();
    await service.exited;
  }

  private running(): NonNullable<LauncherService["service"]> {
    if (this.service) return this.service;
    const child = spawn(launcherPath, ["--serve"], {
      stdio: ["ignore", "ignore", "inherit", "pipe"],
      // Own session: a terminal's Ctrl-C to the server must not reach the service or its launchers.
      detached: true,
      env: {},
    });
    const socket = child.stdio[3] as Socket;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const service = { child, socket, exited };
    this.service = service;
    let partial = "";
    socket.setEncoding("utf8");
    socket.on("data", (text: string) => {
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) this.onLine(line);
    });
    socket.on("error", () => {}); // the exit below reports it
    child.once("error", (error) => this.onServiceGone(service, error.message));
    void exited.then(() => this.onServiceGone(service, `exit code ${child.exitCode}, signal ${child.signalCode}`));
    // Neither keeps the caller's event loop alive: an idle service must not stop a process from exiting.
    child.unref();
    socket.unref();
    return service;
  }

  private onLine(line: string): void {
    const [first, kind, a, b, c] = line.split(" ");
    if (first === "exited") {
      this.onLauncherExit(Number(kind));
      return;
    }
    const id = Number(first);
    const request = this.pending.get(id);
    if (!request) return;
    if (kind === "forked") {
      this.requestOfPid.set(Number(a), id);
    } else if (kind === "started") {
      const launcherPid = Number(b);
      this.pending.delete(id);
      this.requestOfPid.delete(launcherPid);
      const launcherExited = new Promise<boolean>((resolve) => this.exits.set(launcherPid, resolve));
      request.resolve({
        initPid: Number(a),
        launcherPid,
        ...(c && { launcherStartTime: c }),
        launcherExited,
      });
    } else if (kind === "error") {
      // "<id> error <errno> <launcher-pid> <call> <path>": the path may hold spaces.
      request.failure = new LaunchError(Number(a), line.split(" ").slice(4).join(" "));
      const launcherPid = Number(b);
      if (launcherPid > 0) this.requestOfPid.set(launcherPid, id);
      else {
        this.pending.delete(id); // the fork itself failed: nothing to wait for
        request.reject(request.failure);
      }
    } else {
      this.onWarning(`launcher service: unexpected reply ${JSON.stringify(line)}`);
    }
  }

  private onLauncherExit(pid: number): void {
    const exited = this.exits.get(pid);
    if (exited) {
      this.exits.delete(pid);
      exited(true);
      return;
    }
    const id = this.requestOfPid.get(pid);
    if (id === undefined) return;
    this.requestOfPid.delete(pid);
    const request = this.pending.get(id);
    this.pending.delete(id);
    request?.reject(
      request.failure ?? new Error("the launcher exited without reporting; see launcher.log in the job dir"),
    );
  }

  private onServiceGone(service: NonNullable<LauncherService["service"]>, why: string): void {
    if (this.service !== service) return;
    this.service = undefined;
    if (!this.closed) this.onWarning(`launcher service stopped (${why}); a new one starts with the next job`);
    for (const request of this.pending.values()) request.reject(new Error(`the launcher service stopped (${why})`));
    for (const exited of this.exits.values()) exited(false);
    this.pending.clear();
    this.requestOfPid.clear();
    this.exits.clear();
  }
}

/** One request: u32 size, u32 id, u32 argc, u32 envc, then NUL-terminated strings (native byte order). */
function encodeRequest(id: number, args: readonly string[], env: readonly string[]): Buffer {
  const strings = [...args, ...env];
  if (strings.some((s) => s.includes("\0"))) throw new Error("launch arguments and environment must not contain NUL");
  const body = Buffer.from(`${strings.join("\0")}\0`);
  const header = Buffer.alloc(16);
  const write = (value: number, at: number) =>
    endianness() === "LE" ? header.writeUInt32LE(value, at) : header.writeUInt32BE(value, at);
  write(12 + body.length, 0);
  write(id, 4);
  write(args.length, 8);
  write(env.length, 12);
  return Buffer.concat([header, body]);
}
