import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { runjobPath, type ServerAddress, shellEnv } from "./cli-harness.js";

/** Where the browser tests find Chromium (Debian's package). */
export const CHROMIUM = "/usr/bin/chromium";

/**
 * Installs Chromium where it is missing (CI runs as root on Debian): the page
 * is tested in a real browser. Returns why not when it cannot.
 */
export function ensureChromium(): string | undefined {
  const works = () => execFileSync(CHROMIUM, ["--version"], { stdio: "ignore" });
  try {
    works();
    return undefined;
  } catch {
    // not installed: try below
  }
  try {
    execFileSync("apt-get", ["update", "-q"], { stdio: "ignore" });
    execFileSync("apt-get", ["install", "-y", "-q", "chromium"], { stdio: "ignore" });
    works();
    return undefined;
  } catch (error) {
    return `chromium is missing and could not be installed: ${error}`;
  }
}

/** A real 'runjob ui' process connected to `server`: its URL (with the token), port and token. */
export class UiProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly port: number,
    readonly token: string,
  ) {}

  /**
   * Starts 'runjob ui' from this repository, connected to `server`; or, with
   * `installed`, an installed runjob (the single executable, say) with exactly
   * that environment (its context says where the server is).
   */
  static async start(
    server: ServerAddress | undefined,
    options: {
      args?: string[];
      /** Connect as this identity of the dev PKI (default alice). */
      identity?: string;
      installed?: { runjob: string; env: NodeJS.ProcessEnv; cwd: string };
    } = {},
  ): Promise<UiProcess> {
    const { installed } = options;
    const args = ["ui", "--no-open", "--json", ...(options.args ?? [])];
    const child = installed
      ? spawn(installed.runjob, args, { env: installed.env, cwd: installed.cwd, stdio: ["ignore", "pipe", "pipe"] })
      : spawn(process.execPath, [runjobPath, ...args], {
          env: { ...shellEnv(server!), ...identityEnv(server!, options.identity ?? "alice") },
          stdio: ["ignore", "pipe", "pipe"],
        });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const lines = createInterface({ input: child.stdout! });
    const [line] = (await Promise.race([
      once(lines, "line"),
      once(child, "exit").then(() => {
        throw new Error(`runjob ui exited before printing its URL: ${stderr}`);
      }),
    ])) as [string];
    const { url, port } = JSON.parse(line) as { url: string; port: number };
    return new UiProcess(child, url, port, new URL(url).searchParams.get("token") ?? "");
  }

  /** Stops the process (SIGTERM) and waits until it has exited. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, "exit");
    this.child.kill("SIGTERM");
    await exited;
  }
}

/** The certificate and key of `identity` from the server's dev PKI. */
function identityEnv(server: ServerAddress, identity: string): NodeJS.ProcessEnv {
  return { RUNJOB_CERT: join(server.certs, `${identity}.crt`), RUNJOB_KEY: join(server.certs, `${identity}.key`) };
}
