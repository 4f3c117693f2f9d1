import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";

const REDIS_SERVER = "/usr/bin/redis-server";

/**
 * Installs Debian's redis-server when it is missing (CI is a fresh Debian,
 * as root, with apt reachable), and makes sure the package's own daemon is
 * not left running. Throws, saying what to do, when it cannot.
 */
export function ensureRedisServer(): void {
  if (existsSync(REDIS_SERVER)) return;
  try {
    execFileSync("apt-get", ["update"], { stdio: "ignore" });
    execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "redis-server"], {
      stdio: "ignore",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  } catch (error) {
    throw new Error(
      `the fleet tests need ${REDIS_SERVER} and 'apt-get install -y redis-server' failed (${(error as Error).message}): install it by hand`,
    );
  }
  // Where an init system started the packaged service, it is stopped: tests start their own.
  for (const pidFile of ["/run/redis/redis-server.pid", "/var/run/redis/redis-server.pid"]) {
    if (!existsSync(pidFile)) continue;
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    if (pid > 0) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {}
    }
  }
  if (!existsSync(REDIS_SERVER)) throw new Error(`apt-get installed redis-server but ${REDIS_SERVER} is missing`);
}

/**
 * A real redis-server for tests: its own port and data dir (append-only
 * file, fsync on every write, so a stop and start loses nothing), stopped and
 * removed by `dispose`. `stop` and `start` restart it on the same port and data.
 */
export class RedisServer {
  private child?: ChildProcess;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async start(tmpDir = "/var/tmp"): Promise<RedisServer> {
    ensureRedisServer();
    const dir = await mkdtemp(join(tmpDir, "jobworker-test-redis-"));
    const redis = new RedisServer(dir, await freePort());
    try {
      await redis.start();
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    return redis;
  }

  /** redis://127.0.0.1:PORT */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts redis-server (again) and resolves once it accepts connections. */
  async start(): Promise<void> {
    const child = spawn(
      REDIS_SERVER,
      [
        ...["--port", String(this.port), "--bind", "127.0.0.1", "--dir", this.dir],
        ...["--appendonly", "yes", "--appendfsync", "always", "--save", ""],
        ...["--daemonize", "no", "--logfile", "", "--protected-mode", "yes"],
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    this.child = child;
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      lines.on("line", (line) => {
        if (line.includes("Ready to accept connections")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`redis-server exited (${code}) before it was ready`)));
    });
  }

  /** Stops redis-server (SIGTERM: it finishes writing its data) and resolves once it has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    await exited;
  }

  /** Stops redis-server and removes its data. */
  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A TCP port free on 127.0.0.1 right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
