import { execFile } from "node:child_process";
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

/** Calls `method` with `request` through `buf curl` (connect-go's clients) as `identity`. */
export async function bufCurl(
  target: CurlTarget,
  transport: Transport,
  identity: string,
  method: string,
  request: object,
): Promise<CurlResult> {
  const args = [
    "curl",
    ...["--schema", target.descriptorSet, "--protocol", transport.protocol],
    "--http2-prior-knowledge",
    ...["--cacert", join(target.certs, "ca.crt")],
    ...["--cert", join(target.certs, `${identity}.crt`), "--key", join(target.certs, `${identity}.key`)],
    ...["--data", JSON.stringify(request)],
    `https://localhost:${target.port}/jobworker.v1.JobService/${method}`,
  ];
  try {
    const { stdout } = await run(BUF, args, { maxBuffer: 64 * 1024 * 1024 });
    return { messages: parseJsonSequence(stdout) };
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    const [printed] = parseJsonSequence(stderr.slice(stderr.indexOf("{")));
    if (!printed || typeof printed.code !== "string") throw error;
    return { messages: parseJsonSequence(stdout), error: printed as CurlResult["error"] };
  }
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
