/** Floods for tests of a server under abuse: idle connections, followers that never read, bounded waits. */
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import * as http2 from "node:http2";
import { type Socket, connect as tcpConnect } from "node:net";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { StreamOutputRequestSchema } from "@jobworker/proto";
import type { ServerProcess } from "./server-process.js";

/** Rejects when `promise` has not settled within `ms`: every wait here is bounded. */
export function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * `count` TCP connections that send the first byte of a TLS record and nothing
 * more; `closedByServer` resolves once `closes` of them were closed by the server.
 */
export async function idleConnections(port: number, count: number) {
  let closed = 0;
  const waiters: { closes: number; wake: () => void }[] = [];
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i++) {
    const socket = tcpConnect(port, "127.0.0.1");
    socket.write(Buffer.from([0x16]));
    socket.on("error", () => {});
    socket.once("close", () => {
      closed++;
      for (const waiter of waiters.filter((w) => closed >= w.closes)) waiter.wake();
    });
    sockets.push(socket);
  }
  await Promise.all(sockets.map((socket) => (socket.connecting ? once(socket, "connect") : undefined)));
  return {
    closedByServer: (closes: number) =>
      closed >= closes ? Promise.resolve() : new Promise<void>((wake) => waiters.push({ closes, wake })),
    destroy: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * `count` StreamOutput calls (following `id`, as `identity`) whose responses are
 * never read, spread over connections of 100 calls each; resolves once the
 * server has answered every one of them.
 */
export async function stalledFollowers(
  server: ServerProcess,
  id: string,
  count: number,
  identity = "alice",
): Promise<{ close(): void }> {
  const [ca, cert, key] = await Promise.all(
    ["ca.crt", `${identity}.crt`, `${identity}.key`].map((file) => readFile(join(server.certs, file))),
  );
  const body = toBinary(StreamOutputRequestSchema, create(StreamOutputRequestSchema, { id, follow: true }));
  const request = Buffer.concat([Buffer.from([0, 0, 0, 0, body.length]), body]);
  const sessions: http2.ClientHttp2Session[] = [];
  const answered: Promise<unknown>[] = [];
  for (let opened = 0; opened < count; opened += 100) {
    const session = http2.connect(`https://localhost:${server.port}`, { ca, cert, key });
    sessions.push(session);
    for (let i = opened; i < Math.min(count, opened + 100); i++) {
      const stream = session.request({
        ":method": "POST",
        ":path": "/jobworker.v1.JobService/StreamOutput",
        "content-type": "application/grpc",
        te: "trailers",
      });
      stream.end(request);
      stream.pause();
      answered.push(once(stream, "response"));
    }
  }
  await Promise.all(answered);
  return {
    close: () => {
      for (const session of sessions) session.destroy();
    },
  };
}
