import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";

/** Debian's interpreter: the packages below are installed for it (a `python3` on PATH may be another). */
export const PYTHON = "/usr/bin/python3";
const CLIENT = new URL("../python/interop_client.py", import.meta.url).pathname;
const DEBIAN_PACKAGES = ["python3-grpcio", "python3-protobuf"];

/** Whether Debian's python3 can import grpcio and protobuf. */
function hasPythonGrpc(): boolean {
  try {
    execFileSync(PYTHON, ["-c", "import grpc, google.protobuf"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Installs the Python client's Debian packages when they are missing (a fresh
 * CI machine): `apt-get install -y`, after an `apt-get update` if the package
 * lists are too old to know them.
 */
export function ensurePythonGrpc(): void {
  if (hasPythonGrpc()) return;
  // Another apt run (an unattended upgrade, a neighbour's set-up) holds dpkg's lock for a while: wait for it.
  const apt = (...args: string[]) =>
    execFileSync("apt-get", ["-o", "DPkg::Lock::Timeout=300", ...args], { stdio: "inherit" });
  try {
    apt("install", "-y", ...DEBIAN_PACKAGES);
  } catch {
    apt("update");
    apt("install", "-y", ...DEBIAN_PACKAGES);
  }
  if (!hasPythonGrpc()) {
    throw new Error(
      `${PYTHON} cannot import grpc after installing ${DEBIAN_PACKAGES.join(" ")}: check apt's output above`,
    );
  }
}

/** Where the Python client finds the server: INTEROP_TARGET, INTEROP_CERTS, INTEROP_DESCRIPTOR_SET. */
export interface PythonEnv {
  target: string;
  certs: string;
  descriptorSet: string;
}

/** One run of a scenario of python/interop_client.py: its events as they come, then its result. */
export class PythonScenario<Result> {
  readonly result: Promise<Result>;
  private readonly child: ChildProcess;
  private readonly eventWaiters: { name: string; wake: (event: Record<string, unknown>) => void }[] = [];
  private readonly events: Record<string, unknown>[] = [];

  constructor(env: PythonEnv, scenario: string, args: object) {
    this.child = spawn(PYTHON, [CLIENT, scenario, JSON.stringify(args)], {
      stdio: ["pipe", "pipe", "pipe"],
      env: {
        ...process.env,
        // No __pycache__ in the source tree.
        PYTHONDONTWRITEBYTECODE: "1",
        INTEROP_TARGET: env.target,
        INTEROP_CERTS: env.certs,
        INTEROP_DESCRIPTOR_SET: env.descriptorSet,
      },
    });
    let stderr = "";
    this.child.stderr?.on("data", (data: Buffer) => {
      stderr += data.toString();
    });
    let result: Result | undefined;
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      const parsed = JSON.parse(line) as { event?: string; result?: Result };
      if (parsed.event !== undefined) {
        this.events.push(parsed);
        for (const waiter of this.eventWaiters.filter((w) => w.name === parsed.event)) waiter.wake(parsed);
      } else if ("result" in parsed) result = parsed.result;
    });
    this.result = once(this.child, "close").then(([code]) => {
      if (code !== 0 || result === undefined) {
        throw new Error(`interop_client.py ${scenario} exited ${code}:\n${stderr}`);
      }
      return result;
    });
  }

  /** Resolves with the scenario's first event named `name`. */
  event(name: string): Promise<Record<string, unknown>> {
    const seen = this.events.find((event) => event.event === name);
    if (seen) return Promise.resolve(seen);
    return new Promise((wake) => this.eventWaiters.push({ name, wake }));
  }

  /** Sends the line a waiting scenario reads from stdin. */
  proceed(): void {
    this.child.stdin?.end("go\n");
  }

  /** Ends the client (a test that failed half-way). */
  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}

/** Runs a scenario to its end and returns its result. */
export function runPython<Result>(env: PythonEnv, scenario: string, args: object = {}): Promise<Result> {
  return new PythonScenario<Result>(env, scenario, args).result;
}
