// Output compression: would gzip-compressed StreamOutput responses pay? The server
// answers uncompressed (apps/server/src/api/compression.ts); this is the measurement
// behind that choice. gzip here is the one the server would use (connect-node's
// compressionGzip, zlib's default level), applied chunk by chunk as the server reads.
import { compressionGzip } from "@connectrpc/connect-node";
import type { BenchServer, JobClient } from "./lib/server.ts";
import { summarize } from "./lib/stats.ts";
import { type Row, x } from "./lib/table.ts";

const MIB = 2 ** 20;
const OUTPUT_BYTES = 64 * MIB;
const ROUNDS = 5;
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
    // Rounds take turns between streaming and gzipping, and each round gives its own ratio:
    // on a busy machine the two drift together, and the median ratio is what stays.
    const streamRates: number[] = [];
    const gzipRates: number[] = [];
    const ratios: number[] = [];
    let shrunk = 1;
    for (let round = 0; round < ROUNDS; round++) {
      const streamed = await streamOnce(client, id);
      const gzipped = await gzipOnce(streamed.chunks);
      shrunk = gzipped.bytes / streamed.chunks.reduce((n, c) => n + c.length, 0);
      streamRates.push(streamed.rate);
      gzipRates.push(gzipped.rate);
      ratios.push(gzippedRate(gzipped.rate, shrunk, streamed.rate) / streamed.rate);
    }
    await client.deleteJob({ id });
    const stream = summarize(streamRates).p50;
    const gzip = summarize(gzipRates).p50;
    rows.push({
      benchmark: `StreamOutput 64 MiB of ${kind}, responses gzipped (gzip ${mbps(gzip)}, to ${(100 * shrunk).toFixed(0)} %) / uncompressed (median of ${ROUNDS})`,
      figure: mbps(gzippedRate(gzip, shrunk, stream)),
      floor: `uncompressed ${mbps(stream)}`,
      ratio: x(summarize(ratios).p50),
      // Below 1× gzip costs the server more than it saves on a link as fast as this one.
      target: "compress if > 1",
      met: undefined,
    });
  }
  return rows;
}

/**
 * The rate the server would stream at if it gzipped: it would gzip each byte, then frame
 * and encrypt what is left, so its time per output byte becomes 1/gzip + shrunk/stream.
 */
function gzippedRate(gzip: number, shrunk: number, stream: number): number {
  return 1 / (1 / gzip + shrunk / stream);
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
