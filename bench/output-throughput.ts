// 2. Output throughput: (a) a job writing 1 GiB to stdout, isolated vs bare on the
// host; (b) StreamOutput of the finished 1 GiB to 1 and 10 clients over mutual TLS,
// against a plain Node TLS 1.3 socket piping the same file over loopback.
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, createReadStream, openSync, watch } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createSecureServer, connect as http2Connect } from "node:http2";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { connect, createServer } from "node:tls";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { WIDE_WINDOW_SETTINGS } from "@jobworker/cli/transport";
import type { Job } from "@jobworker/proto";
import { cpuMsOf, mib, pssSplitOf, rssOf, samplePeakRss } from "./lib/proc.ts";
import type { BenchServer, JobClient } from "./lib/server.ts";
import { summarize } from "./lib/stats.ts";
import { type Row, x } from "./lib/table.ts";

const GIB = 2 ** 30;
const ROUNDS = 3;
const TEN = 10;
/**
 * What one of ten streams may hold at most: ten readers read 256 KiB chunks (ChunkBudget in
 * @jobworker/core), and a stream holds about four (one read ahead, one being sent, its TLS
 * plaintext and ciphertext), plus HTTP/2's and TLS's own buffers.
 */
const PER_CLIENT_BOUND = 4 * 2 ** 20;
/** How long the server sits idle after streaming before its memory is read again. */
const IDLE_MS = 60_000;
/** The server's largest read chunk (CHUNK_BYTES in @jobworker/core): what one client alone gets. */
const CHUNK_BYTES = 1024 * 1024;
const WRITE_1GIB = ["-c", `head -c ${GIB} /dev/zero`];

export async function outputThroughput(server: BenchServer): Promise<Row[]> {
  const client = server.client();
  // Before the benchmark: writing the gigabytes below evicts some of the server's own file pages
  // (its binary) from the page cache, which lowers its PSS until streaming faults them back in.
  const pssStart = await pssSplitOf(server.pid);
  const scratch = await mkdtemp("/var/tmp/jobworker-bench-out-");
  const bareFile = join(scratch, "bare.log");
  // Rounds taking turns between the isolated job and the bare command, each writing a fresh
  // gigabyte after a sync, so neither pays for writing back the other's.
  const isolatedRuns: number[] = [];
  const bareRuns: number[] = [];
  const watchedRuns: number[] = [];
  let ended: Job | undefined;
  for (let round = 0; round < ROUNDS; round++) {
    if (ended) await client.deleteJob({ id: ended.id });
    execFileSync("sync");
    const { job } = await client.startJob({
      command: "/bin/sh",
      args: WRITE_1GIB,
      limits: { memoryBytes: BigInt(GIB) },
    });
    ended = (await client.waitJob({ id: job?.id ?? "" })).job;
    isolatedRuns.push(timestampMs(ended!.endTime!) - timestampMs(ended!.startTime!));
    bareRuns.push(await writeBare(bareFile));
    // The same, with the file's directory watched the way the server watches every job's
    // (one fs.watch, drained by an idle event loop): what learning of new output costs the writer.
    const watcher = watch(scratch, () => {});
    watchedRuns.push(await writeBare(bareFile));
    watcher.close();
  }
  const isolatedMs = summarize(isolatedRuns).p50;
  const bareMs = summarize(bareRuns).p50;
  const watchedMs = summarize(watchedRuns).p50;

  const id = ended!.id;
  // Both files on disk first, so writeback of the fresh gigabytes does not land on one measurement
  // only; then rounds taking turns between StreamOutput and its floors.
  execFileSync("sync");
  const pssBefore = await pssSplitOf(server.pid);
  // Warm-up, unmeasured: the server's streaming path and the floors' code are compiled by the
  // JIT during their first gigabyte, which would otherwise count against round 1 alone.
  await streamRate([client], id, server.pid);
  await tlsFloor(server.certs, bareFile);
  await http2Floor(server.certs, bareFile);
  const rounds: { one: Stream; floor: number; http2: number; http2CpuMs: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // StreamOutput before and after its floors: this machine's speed drifts by a third within
    // seconds, and a drift then weighs on both sides of the ratio alike, not on one.
    const before = await streamRate([client], id, server.pid);
    const floor = await tlsFloor(server.certs, bareFile);
    const cpu = process.cpuUsage();
    const http2 = await http2Floor(server.certs, bareFile);
    const used = process.cpuUsage(cpu);
    const one = combined(before, await streamRate([client], id, server.pid));
    rounds.push({ one, floor, http2, http2CpuMs: (used.user + used.system) / 1000 });
  }
  const floor = summarize(rounds.map((r) => r.floor)).p50;
  // Ten clients, each on its own connection, with the server's RSS sampled meanwhile: what the
  // streams hold (chunks read ahead, frames queued for a client) shows as growth over the idle RSS.
  const tenClients = Array.from({ length: TEN }, () => server.client());
  const rssBefore = await rssOf(server.pid);
  const stopSampling = samplePeakRss(server.pid);
  const ten = await streamRate(tenClients, id, server.pid);
  const tenGrowth = (await stopSampling()) - rssBefore;
  const pssAfter = await pssSplitOf(server.pid);
  // A minute with nothing to do: what the server gives back once streaming is over.
  await sleep(IDLE_MS);
  const pssIdle = await pssSplitOf(server.pid);
  const heapIdle = heapOf(await server.metrics());
  await rm(scratch, { recursive: true, force: true });

  const mbps = (bytesPerMs: number) => `${(bytesPerMs / 1000).toFixed(0)} MB/s`;
  const perGib = (s: Stream) =>
    `server ${(s.serverCpuMs / s.gib / 1000).toFixed(2)} s, client ${(s.clientCpuMs / s.gib / 1000).toFixed(2)} s`;
  const oneRows = rounds.map(({ one, floor, http2 }, round): Row => {
    const vsTls = one.rate / floor;
    const vsHttp2 = one.rate / http2;
    return {
      benchmark: `StreamOutput 1 GiB, 1 client, round ${round + 1} of ${ROUNDS}: once before the floors and once after (CPU per GiB: ${perGib(one)})`,
      figure: mbps(one.rate),
      floor: `TLS socket ${mbps(floor)}; HTTP/2 ${mbps(http2)}`,
      ratio: `${x(vsTls)} TLS; ${x(vsHttp2)} HTTP/2`,
      target: "≥ 0.75× TLS and ≥ 0.90× HTTP/2",
      met: vsTls >= 0.75 && vsHttp2 >= 0.9,
    };
  });
  const http2Rows = rounds.map(
    ({ floor, http2, http2CpuMs }, round): Row => ({
      benchmark: `plain Node HTTP/2 on the same TLS, no RPC framing, round ${round + 1} of ${ROUNDS} (CPU per GiB, both ends: ${(http2CpuMs / 1000).toFixed(2)} s)`,
      figure: mbps(http2),
      floor: `TLS socket ${mbps(floor)}`,
      ratio: x(http2 / floor),
      target: "-",
      met: undefined,
    }),
  );
  const perClient = tenGrowth / TEN;
  return [
    {
      benchmark: `job writing 1 GiB: speed isolated / bare (median of ${ROUNDS})`,
      figure: `${(isolatedMs / 1000).toFixed(2)} s`,
      floor: `bare ${(bareMs / 1000).toFixed(2)} s`,
      ratio: x(bareMs / isolatedMs),
      target: "≥ 0.9",
      met: bareMs / isolatedMs >= 0.9,
    },
    {
      benchmark: "job writing 1 GiB: isolated / bare with its directory watched",
      figure: `${(isolatedMs / 1000).toFixed(2)} s`,
      floor: `watched ${(watchedMs / 1000).toFixed(2)} s`,
      ratio: x(watchedMs / isolatedMs),
      target: "-",
      met: undefined,
    },
    ...oneRows,
    ...http2Rows,
    {
      benchmark: `StreamOutput 1 GiB, ${TEN} clients (aggregate; CPU per GiB: ${perGib(ten)})`,
      figure: mbps(ten.rate),
      floor: `TLS socket ${mbps(floor)} (median)`,
      ratio: x(ten.rate / floor),
      target: "≥ 0.75",
      met: ten.rate / floor >= 0.75,
    },
    {
      benchmark: `server memory while streaming to ${TEN} clients: peak RSS growth over idle`,
      figure: `${mib(tenGrowth)} (${mib(perClient)} per client)`,
      floor: `idle RSS ${mib(rssBefore)}`,
      ratio: "-",
      target: `≤ ${TEN} × ${mib(PER_CLIENT_BOUND)}`,
      met: perClient <= PER_CLIENT_BOUND,
    },
    {
      benchmark: `server PSS: idle after start-up; at this benchmark's start; before streaming; after it; after ${IDLE_MS / 1000} s idle`,
      figure: `${mib(server.startupPss)}; ${mib(pssStart.pss)}; ${mib(pssBefore.pss)}; ${mib(pssAfter.pss)}; ${mib(pssIdle.pss)}`,
      floor: `at this benchmark's start ${mib(pssStart.pss)}`,
      ratio: x(pssIdle.pss / pssStart.pss),
      target: "≤ 1.25",
      met: pssIdle.pss / pssStart.pss <= 1.25,
    },
    {
      benchmark: `server PSS, anonymous memory only (what it allocated): before streaming; after it; after ${IDLE_MS / 1000} s idle (then: V8 young generation ${mib(heapIdle.newSpace)}, old ${mib(heapIdle.oldSpace)}, external ${mib(heapIdle.external)})`,
      figure: `${mib(pssBefore.anon)}; ${mib(pssAfter.anon)}; ${mib(pssIdle.anon)}`,
      floor: `before streaming ${mib(pssBefore.anon)}`,
      ratio: x(pssIdle.anon / pssBefore.anon),
      target: "≤ 1.25",
      met: pssIdle.anon / pssBefore.anon <= 1.25,
    },
  ];
}

/** The server's V8 heap spaces and external memory, from its Prometheus metrics. */
function heapOf(metrics: string): { newSpace: number; oldSpace: number; external: number } {
  const value = (pattern: RegExp) => Number(pattern.exec(metrics)?.[1] ?? Number.NaN);
  return {
    newSpace: value(/^nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)/m),
    oldSpace: value(/^nodejs_heap_space_size_total_bytes\{space="old"\} (\d+)/m),
    external: value(/^nodejs_external_memory_bytes (\d+)/m),
  };
}

/** Wall time of the bare command writing 1 GiB into `file`, after a sync. */
async function writeBare(file: string): Promise<number> {
  execFileSync("sync");
  const fd = openSync(file, "w");
  const started = performance.now();
  const bare = spawn("/bin/sh", WRITE_1GIB, { stdio: ["ignore", fd, fd] });
  await once(bare, "exit");
  closeSync(fd);
  return performance.now() - started;
}

/** One StreamOutput measurement: aggregate bytes per millisecond, and the CPU both ends spent meanwhile. */
interface Stream {
  rate: number;
  gib: number;
  serverCpuMs: number;
  clientCpuMs: number;
}

/** Two measurements as one: all their bytes over all their time, and all their CPU. */
function combined(a: Stream, b: Stream): Stream {
  const bytes = (a.gib + b.gib) * GIB;
  const elapsed = (a.gib * GIB) / a.rate + (b.gib * GIB) / b.rate;
  return {
    rate: bytes / elapsed,
    gib: a.gib + b.gib,
    serverCpuMs: a.serverCpuMs + b.serverCpuMs,
    clientCpuMs: a.clientCpuMs + b.clientCpuMs,
  };
}

/** Streams the whole output to every client at once; the clients run in this process. */
async function streamRate(clients: JobClient[], id: string, serverPid: number): Promise<Stream> {
  const serverCpu = await cpuMsOf(serverPid);
  const clientCpu = process.cpuUsage();
  const started = performance.now();
  const totals = await Promise.all(
    clients.map(async (c) => {
      let bytes = 0;
      for await (const chunk of c.streamOutput({ id })) bytes += chunk.data.length;
      return bytes;
    }),
  );
  const elapsed = performance.now() - started;
  const client = process.cpuUsage(clientCpu);
  const bytes = totals.reduce((a, b) => a + b, 0);
  return {
    rate: bytes / elapsed,
    gib: bytes / GIB,
    serverCpuMs: (await cpuMsOf(serverPid)) - serverCpu,
    clientCpuMs: (client.user + client.system) / 1000,
  };
}

/** The cipher the server negotiates with runjob, so the floors encrypt the same way. */
const FLOOR_CIPHER = "TLS_AES_256_GCM_SHA384";

/** The dev PKI's server key and certificate, and the CA that signed them. */
async function floorCredentials(certs: string): Promise<{ key: Buffer; cert: Buffer; ca: Buffer }> {
  const [key, cert, ca] = await Promise.all(
    ["server.key", "server.crt", "ca.crt"].map((f) => readFile(join(certs, f))),
  );
  return { key: key as Buffer, cert: cert as Buffer, ca: ca as Buffer };
}

/** The floor: the same file through a plain Node TLS 1.3 socket, same cipher, over loopback. */
async function tlsFloor(certs: string, file: string): Promise<number> {
  const { key, cert, ca } = await floorCredentials(certs);
  const server = createServer({ key, cert, minVersion: "TLSv1.3", ciphers: FLOOR_CIPHER }, (socket) =>
    createReadStream(file, { highWaterMark: 64 * 1024 }).pipe(socket),
  );
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  const started = performance.now();
  let bytes = 0;
  const socket = connect({
    port,
    host: "127.0.0.1",
    servername: "localhost",
    ca,
    minVersion: "TLSv1.3",
    ciphers: FLOOR_CIPHER,
  });
  socket.on("data", (data: Buffer) => {
    bytes += data.length;
  });
  await once(socket, "end");
  const rate = bytes / (performance.now() - started);
  server.close();
  return rate;
}

/**
 * What HTTP/2 itself costs: the same file as one plain HTTP/2 response over the
 * same TLS, with runjob's window and frame settings, server and client in this
 * process like the TLS floor.
 */
async function http2Floor(certs: string, file: string): Promise<number> {
  const { key, cert, ca } = await floorCredentials(certs);
  const server = createSecureServer(
    { key, cert, minVersion: "TLSv1.3", ciphers: FLOOR_CIPHER, settings: WIDE_WINDOW_SETTINGS },
    (_request, response) => createReadStream(file, { highWaterMark: CHUNK_BYTES }).pipe(response),
  );
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  const session = http2Connect(`https://localhost:${port}`, {
    ca,
    minVersion: "TLSv1.3",
    ciphers: FLOOR_CIPHER,
    settings: WIDE_WINDOW_SETTINGS,
  });
  await once(session, "connect");
  session.setLocalWindowSize(WIDE_WINDOW_SETTINGS.initialWindowSize ?? 65_535);
  const started = performance.now();
  let bytes = 0;
  const stream = session.request({ ":path": "/" });
  stream.on("data", (data: Buffer) => {
    bytes += data.length;
  });
  await once(stream, "end");
  const rate = bytes / (performance.now() - started);
  session.close();
  server.close();
  return rate;
}
