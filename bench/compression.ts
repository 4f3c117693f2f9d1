// Output compression: would gzip-compressed StreamOutput responses pay? The server
// answers uncompressed (apps/server/src/compression.ts); this is the measurement
// behind that choice. gzip here is the one the server would use (connect-node's
// compressionGzip, zlib's default level), applied chunk by chunk as the server reads.
import { compressionGzip } from "@connectrpc/connect-node";
import type { BenchServer, JobClient } from "./lib/server.ts";
import { summarize } from "./lib/stats.ts";
import { type Row, x } from "./lib/table.ts";

const MIB = 2 ** 20;
const OUTPUT_BYTES = 64 * MIB;
const ROUNDS = 3;
/** Two kinds of job output: text as programs print it (`ls -lR /usr`, over and over), and bytes already compressed or random. */
const OUTPUTS = {
  // cat dies of SIGPIPE once head has its bytes, and that ends the loop.
  text: `ls -lR /usr >listing 2>/dev/null; while cat listing; do :; done | head -c ${OUTPUT_BYTES}`,
  "random bytes": `head -c ${OUTPUT_BYTES} /dev/urandom`,
};

export async function outputCompression(server: BenchServer): Promise<Row[]> {
  const client = server.client();
  const rows: Row[] = [];
  for (const [kind, script] of Object.entries(OUTPUTS)) {
    const { job } = await client.startJob({ command: "/bin/sh", args: ["-c", script] });
    const id = job?.id ?? "";
    await client.waitJob({ id });
    const streamRates: number[] = [];
    const gzipRates: number[] = [];
    let chunks: Uint8Array[] = [];
    let compressedBytes = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const streamed = await streamOnce(client, id);
      streamRates.push(streamed.rate);
      chunks = streamed.chunks;
      const gzipped = await gzipOnce(chunks);
      gzipRates.push(gzipped.rate);
      compressedBytes = gzipped.bytes;
    }
    await client.deleteJob({ id });
    const stream = summarize(streamRates).p50;
    const gzip = summarize(gzipRates).p50;
    const total = chunks.reduce((n, c) => n + c.length, 0);
    const shrunk = compressedBytes / total;
    // The server would gzip each byte, then frame and encrypt what is left: its time per
    // output byte becomes 1/gzip + shrunk/stream instead of 1/stream.
    const compressed = 1 / (1 / gzip + shrunk / stream);
    rows.push({
      benchmark: `StreamOutput 64 MiB of ${kind}, responses gzipped (gzip ${mbps(gzip)}, to ${(100 * shrunk).toFixed(0)} %) / uncompressed (median of ${ROUNDS})`,
      figure: mbps(compressed),
      floor: `uncompressed ${mbps(stream)}`,
      ratio: x(compressed / stream),
      // Below 1× gzip costs the server more than it saves on a link as fast as this one.
      target: "compress if > 1",
      met: undefined,
    });
  }
  return rows;
}

const mbps = (bytesPerMs: number) => `${(bytesPerMs / 1000).toFixed(0)} MB/s`;

/** Streams the whole output once: bytes per millisecond, and the chunks as the server sent them. */
async function streamOnce(client: JobClient, id: string): Promise<{ rate: number; chunks: Uint8Array[] }> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  const started = performance.now();
  for await (const chunk of client.streamOutput({ id })) {
    chunks.push(chunk.data);
    bytes += chunk.data.length;
  }
  return { rate: bytes / (performance.now() - started), chunks };
}

/** gzips each chunk as the server's response compression would: input bytes per millisecond, output bytes. */
async function gzipOnce(chunks: Uint8Array[]): Promise<{ rate: number; bytes: number }> {
  let input = 0;
  let output = 0;
  const started = performance.now();
  for (const chunk of chunks) {
    input += chunk.length;
    output += (await compressionGzip.compress(chunk)).length;
  }
  return { rate: input / (performance.now() - started), bytes: output };
}
