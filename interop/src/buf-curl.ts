import { execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { BUF } from "./descriptor-set.js";

const run = promisify(execFile);

/**
 * The RPC protocol `buf curl` speaks, always over HTTP/2 (over https it would
 * negotiate h2 with this server anyway; the Connect-ES specs cover HTTP/1.1).
 */
export interface Transport {
  protocol: "grpc" | "connect" | "grpcweb";
}

export const TRANSPORTS: Transport[] = [{ protocol: "grpc" }, { protocol: "connect" }, { protocol: "grpcweb" }];

/** What `buf curl` printed: the response messages (proto3 JSON), or the error it ended with. */
export interface CurlResult {
  messages: Record<string, unknown>[];
  error?: { code: string; message: string };
}

/** Where `buf curl` finds the server, its schema and the identity's certificate. */
export interface CurlTarget {
  port: number;
  certs: string;
  descriptorSet: string;
}

function curlArgs(
  target: CurlTarget,
  transport: Transport,
  identity: string,
  method: string,
  request: object | object[],
): string[] {
  const data = Array.isArray(request)
    ? request.map((message) => JSON.stringify(message)).join("\n")
    : JSON.stringify(request);
  return [
    "curl",
    ...["--schema", target.descriptorSet, "--protocol", transport.protocol],
    "--http2-prior-knowledge",
    ...["--cacert", join(target.certs, "ca.crt")],
    ...["--cert", join(target.certs, `${identity}.crt`), "--key", join(target.certs, `${identity}.key`)],
    ...["--data", data],
    `https://localhost:${target.port}/jobworker.v1.JobService/${method}`,
  ];
}

/**
 * Calls `method` with `request` through `buf curl` (connect-go's clients) as
 * `identity`. An array is a client stream's messages, sent in order before
 * buf curl half-closes.
 */
export async function bufCurl(
  target: CurlTarget,
  transport: Transport,
  identity: string,
  method: string,
  request: object | object[],
): Promise<CurlResult> {
  try {
    const { stdout } = await run(BUF, curlArgs(target, transport, identity, method, request), {
      maxBuffer: 64 * 1024 * 1024,
    });
    return { messages: parseJsonSequence(stdout) };
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    const [printed] = parseJsonSequence(stderr.slice(stderr.indexOf("{")));
    if (!printed || typeof printed.code !== "string") throw error;
    return { messages: parseJsonSequence(stdout), error: printed as CurlResult["error"] };
  }
}

/**
 * Calls a method whose stream does not end by itself (a watch) and reads its
 * messages as buf curl prints them, until `enough` holds; then ends buf curl
 * (the call is cancelled). buf curl sets no deadline of its own and refuses
 * the protocols' timeout headers, so this is how a test bounds such a call.
 */
export function bufCurlUntil(
  target: CurlTarget,
  transport: Transport,
  identity: string,
  method: string,
  request: object,
  enough: (messages: Record<string, unknown>[]) => boolean,
  timeoutMs = 15_000,
): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(BUF, curlArgs(target, transport, identity, method, request), {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const finish = (outcome: () => void) => {
      clearTimeout(timer);
      child.stdout.removeAllListeners("data");
      child.removeAllListeners("exit");
      child.kill("SIGKILL");
      outcome();
    };
    const timer = setTimeout(
      () => finish(() => reject(new Error(`buf curl ${method}: not enough after ${timeoutMs} ms; printed ${stdout}`))),
      timeoutMs,
    );
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      stdout += text;
      const messages = parseJsonSequence(stdout);
      if (enough(messages)) finish(() => resolve(messages));
    });
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      stderr += text;
    });
    child.on("exit", (code) =>
      finish(() => reject(new Error(`buf curl ${method} ended (${code}) before enough: ${stderr}${stdout}`))),
    );
  });
}

/** The JSON documents of `text`, one after another (how `buf curl` prints a stream). */
export function parseJsonSequence(text: string): Record<string, unknown>[] {
  const documents: Record<string, unknown>[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") {
      if (depth++ === 0) start = i;
    } else if (c === "}" && --depth === 0) documents.push(JSON.parse(text.slice(start, i + 1)));
  }
  return documents;
}
