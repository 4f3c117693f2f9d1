// 6. Interactive jobs: (a) keystroke echo latency, one byte sent to `cat` under a
// terminal (AttachJob) until it is back on the client, against a byte echoed by a
// plain Node TLS 1.3 socket; (b) stdin throughput, 256 MiB through AttachJob into
// a job that discards them, against the same bytes through a plain TLS socket.
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { connect, createServer } from "node:tls";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { AttachJobRequestSchema } from "@jobworker/proto";
import type { BenchServer, JobClient } from "./lib/server.ts";
import { summarize } from "./lib/stats.ts";
import { ms, type Row, x } from "./lib/table.ts";

const KEYSTROKES = 300;
const STDIN_BYTES = 256 * 2 ** 20;
const PIECE = 64 * 1024;
const FLOOR_CIPHER = "TLS_AES_256_GCM_SHA384";

type AttachMessage = MessageInitShape<typeof AttachJobRequestSchema>;

export async function interactive(server: BenchServer): Promise<Row[]> {
  const client = server.client();
  const echo = await echoLatencies(client);
  const echoFloor = await tlsEchoLatencies(server.certs);
  const throughput = await stdinThroughput(client);
  const throughputFloor = await tlsThroughput(server.certs);
  const s = summarize(echo);
  const f = summarize(echoFloor);
  const mbps = (bytesPerMs: number) => `${(bytesPerMs / 1000).toFixed(0)} MB/s`;
  return [
    {
      benchmark: `keystroke echo under -t, p50 (${s.count} keys)`,
      figure: ms(s.p50),
      floor: `TLS echo ${ms(f.p50)}`,
      ratio: x(s.p50 / f.p50),
      target: "p50 ≤ 5 ms",
      met: s.p50 <= 5,
    },
    {
      benchmark: "keystroke echo under -t, p99",
      figure: ms(s.p99),
      floor: `TLS echo ${ms(f.p99)}`,
      ratio: x(s.p99 / f.p99),
      target: "p99 ≤ 20 ms",
      met: s.p99 <= 20,
    },
    {
      benchmark: "stdin throughput (256 MiB through AttachJob into a job)",
      figure: mbps(throughput),
      floor: `TLS socket ${mbps(throughputFloor)}`,
      ratio: x(throughputFloor / throughput),
      target: "-",
      met: undefined,
    },
  ];
}

/** Round trips of one byte through a terminal job's echo, over one AttachJob stream. */
async function echoLatencies(client: JobClient): Promise<number[]> {
  const { job } = await client.startJob({ command: "cat", tty: true });
  const id = job?.id ?? "";
  let received: (() => void) | undefined;
  const keys: Uint8Array[] = [];
  let wake: (() => void) | undefined;
  async function* messages(): AsyncGenerator<AttachMessage> {
    yield { action: { case: "start", value: { id } } };
    for (;;) {
      while (keys.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const key = keys.shift();
      if (!key) return;
      yield { action: { case: "input", value: key } };
    }
  }
  const stream = client.attachJob(messages())[Symbol.asyncIterator]();
  const reading = (async () => {
    for (;;) {
      const next = await stream.next();
      if (next.done) return;
      if (next.value.event.case === "output") received?.();
    }
  })();
  const latencies: number[] = [];
  for (let i = 0; i < KEYSTROKES; i++) {
    const back = new Promise<void>((resolve) => (received = resolve));
    const started = performance.now();
    keys.push(Buffer.from("x"));
    wake?.();
    await back;
    latencies.push(performance.now() - started);
  }
  await client.signalJob({ id, signal: "KILL" });
  await reading;
  return latencies.slice(10);
}

/** The floor: one byte echoed by a plain TLS 1.3 socket over loopback, same cipher. */
async function tlsEchoLatencies(certs: string): Promise<number[]> {
  const { key, cert, ca } = await credentials(certs);
  const server = createServer({ key, cert, minVersion: "TLSv1.3", ciphers: FLOOR_CIPHER }, (socket) =>
    socket.pipe(socket),
  );
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  const socket = connect({
    port,
    host: "127.0.0.1",
    servername: "localhost",
    ca,
    minVersion: "TLSv1.3",
    ciphers: FLOOR_CIPHER,
  });
  await once(socket, "secureConnect");
  const latencies: number[] = [];
  for (let i = 0; i < KEYSTROKES; i++) {
    const started = performance.now();
    socket.write("x");
    await once(socket, "data");
    latencies.push(performance.now() - started);
  }
  socket.destroy();
  server.close();
  return latencies.slice(10);
}

/** Bytes per ms of stdin through AttachJob into `cat > /dev/null`, until the job has ended. */
async function stdinThroughput(client: JobClient): Promise<number> {
  const { job } = await client.startJob({ command: "/bin/sh", args: ["-c", "cat > /dev/null"], stdin: true });
  const id = job?.id ?? "";
  const piece = Buffer.alloc(PIECE, 0x61);
  async function* messages(): AsyncGenerator<AttachMessage> {
    yield { action: { case: "start", value: { id } } };
    for (let sent = 0; sent < STDIN_BYTES; sent += PIECE) yield { action: { case: "input", value: piece } };
    yield { action: { case: "closeInput", value: {} } };
  }
  const started = performance.now();
  for await (const _ of client.attachJob(messages())) {
    // the job writes nothing; the stream ends with its end
  }
  return STDIN_BYTES / (performance.now() - started);
}

/** The floor: the same bytes written into a plain TLS 1.3 socket whose peer discards them. */
async function tlsThroughput(certs: string): Promise<number> {
  const { key, cert, ca } = await credentials(certs);
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  const server = createServer({ key, cert, minVersion: "TLSv1.3", ciphers: FLOOR_CIPHER }, (socket) => {
    socket.on("data", () => {});
    socket.on("end", () => {
      socket.end();
      done();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  const socket = connect({
    port,
    host: "127.0.0.1",
    servername: "localhost",
    ca,
    minVersion: "TLSv1.3",
    ciphers: FLOOR_CIPHER,
  });
  await once(socket, "secureConnect");
  const piece = Buffer.alloc(PIECE, 0x61);
  const started = performance.now();
  for (let sent = 0; sent < STDIN_BYTES; sent += PIECE) {
    if (!socket.write(piece)) await once(socket, "drain");
  }
  socket.end();
  await finished;
  const rate = STDIN_BYTES / (performance.now() - started);
  socket.destroy();
  server.close();
  return rate;
}

async function credentials(certs: string): Promise<{ key: Buffer; cert: Buffer; ca: Buffer }> {
  const [key, cert, ca] = await Promise.all(
    ["server.key", "server.crt", "ca.crt"].map((f) => readFile(join(certs, f))),
  );
  return { key: key as Buffer, cert: cert as Buffer, ca: ca as Buffer };
}
