import { execFile, execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Installs tmux where it is missing (CI runs as root on Debian): the terminal
 * tests need a real terminal to type into. Returns why not when it cannot.
 */
export function ensureTmux(): string | undefined {
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
    return undefined;
  } catch {
    // not installed: try below
  }
  try {
    execFileSync("apt-get", ["update", "-q"], { stdio: "ignore" });
    execFileSync("apt-get", ["install", "-y", "-q", "tmux"], { stdio: "ignore" });
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
    return undefined;
  } catch (error) {
    return `tmux is missing and could not be installed: ${error}`;
  }
}

/**
 * A shell in a detached tmux session on a private server (`-L`), for tests
 * that type into a real terminal and read the screen. `dispose` kills the
 * server and everything in it.
 */
export class TmuxSession {
  private constructor(private readonly socket: string) {}

  /** Starts `/bin/sh` with `env` in a window of `columns` x `rows`, with no status line. */
  static async start(env: NodeJS.ProcessEnv, columns: number, rows: number): Promise<TmuxSession> {
    const session = new TmuxSession(`jobworker-test-${randomUUID().slice(0, 8)}`);
    await session.tmux(
      ["new-session", "-d", "-s", "main", "-x", String(columns), "-y", String(rows), "PS1='outer$ ' exec /bin/sh"],
      { ...env, TERM: "xterm" },
    );
    await session.tmux(["set-option", "-t", "main", "status", "off"]);
    return session;
  }

  /** Types `keys` (tmux key names like Enter, C-c, or literal text with `literal`). */
  async send(keys: string, { literal = false } = {}): Promise<void> {
    await this.tmux(["send-keys", "-t", "main", ...(literal ? ["-l", keys] : [keys])]);
  }

  /** Types a line and presses Enter. */
  async type(line: string): Promise<void> {
    await this.send(line, { literal: true });
    await this.send("Enter");
  }

  /** What the pane shows, line by line, with trailing blanks dropped. */
  async screen(): Promise<string> {
    const { stdout } = await this.tmux(["capture-pane", "-p", "-J", "-t", "main", "-S", "-200"]);
    return stdout;
  }

  /**
   * Resolves with the screen once it matches `pattern`: bounded polling of the
   * pane, the only event tmux offers. Fails with the screen after `timeoutMs`.
   */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = await this.screen();
      const match = pattern.exec(screen);
      if (match) return match;
      if (Date.now() > deadline)
        throw new Error(`the terminal did not show ${pattern} within ${timeoutMs} ms:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async resize(columns: number, rows: number): Promise<void> {
    await this.tmux(["resize-window", "-t", "main", "-x", String(columns), "-y", String(rows)]);
  }

  async dispose(): Promise<void> {
    await this.tmux(["kill-server"]).catch(() => {});
  }

  private tmux(args: string[], env?: NodeJS.ProcessEnv) {
    return run("tmux", ["-L", this.socket, ...args], { env: env ?? process.env });
  }
}
