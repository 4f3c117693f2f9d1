// runjob ui: what forwarding the page's calls costs. The page's own transport
// (connect-web's gRPC-Web, over HTTP/1.1 to runjob ui, which calls the server
// over mutual TLS) against runjob's client calling the server directly:
// GetJob round trips, and StreamOutput of a finished 256 MiB.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { JobService } from "@jobworker/proto";
import type { BenchServer, JobClient } from "./lib/server.ts";
import { summarize, timeEach } from "./lib/stats.ts";
import { ms, type Row, x } from "./lib/table.ts";

const RUNJOB = fileURLToPath(new URL("../apps/cli/bin/run.js", import.meta.url));
const OUTPUT_BYTES = 256 * 2 ** 20;
const ROUNDS = 3;
const CALLS = 300;

export async function uiForwarding(server: BenchServer): Promise<Row[]> {
  const direct = server.client();
  const ui = spawn(process.execPath, [RUNJOB, "ui", "--no-open", "--json"], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      RUNJOB_SERVER: `localhost:${server.port}`,
      RUNJOB_CERT: join(server.certs, "alice.crt"),
      RUNJOB_KEY: join(server.certs, "alice.key"),
      RUNJOB_CA: join(server.certs, "ca.crt"),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const [line] = (await once(createInterface({ input: ui.stdout! }), "line")) as [string];
    const { url, port } = JSON.parse(line) as { url: string; port: number };
    const token = new URL(url).searchParams.get("token") ?? "";
    const page: JobClient = createClient(
      JobService,
      createGrpcWebTransport({
        baseUrl: `http://127.0.0.1:${port}`,
        interceptors: [
          (next) => (request) => {
            request.header.set("x-runjob-ui-token", token);
            return next(request);
          },
        ],
      }),
    );

    const { job } = await direct.startJob({ command: "/bin/sh", args: ["-c", `head -c ${OUTPUT_BYTES} /dev/zero`] });
    const id = job?.id ?? "";
    await direct.waitJob({ id });

    // Warm both paths (connections, JIT), then take turns so neither gets the quieter moments.
    await timeEach(20, () => page.getJob({ id }));
    await timeEach(20, () => direct.getJob({ id }));
    const pageCalls: number[] = [];
    const directCalls: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      pageCalls.push(...(await timeEach(CALLS / ROUNDS, () => page.getJob({ id }))));
      directCalls.push(...(await timeEach(CALLS / ROUNDS, () => direct.getJob({ id }))));
    }
    const pageStreams: number[] = [];
    const directStreams: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      pageStreams.push(await streamRate(page, id));
      directStreams.push(await streamRate(direct, id));
    }
    await direct.deleteJob({ id });

    const call = summarize(pageCalls).p50;
    const callFloor = summarize(directCalls).p50;
    const rate = summarize(pageStreams).p50;
    const rateFloor = summarize(directStreams).p50;
    const mbps = (bytesPerMs: number) => `${(bytesPerMs / 1000).toFixed(0)} MB/s`;
    return [
      {
        benchmark: `runjob ui: GetJob from the page's transport (gRPC-Web, forwarded), p50 of ${CALLS}`,
        figure: ms(call),
        floor: `direct ${ms(callFloor)}`,
        ratio: x(call / callFloor),
        target: "≤ 3",
        met: call / callFloor <= 3,
      },
      {
        benchmark: `runjob ui: StreamOutput of 256 MiB through it (median of ${ROUNDS})`,
        figure: mbps(rate),
        floor: `direct ${mbps(rateFloor)}`,
        ratio: x(rate / rateFloor),
        target: "≥ 0.25",
        met: rate / rateFloor >= 0.25,
      },
    ];
  } finally {
    const exited = once(ui, "exit");
    ui.kill("SIGTERM");
    await exited;
  }
}

/** Bytes per millisecond of streaming the whole output once. */
async function streamRate(client: JobClient, id: string): Promise<number> {
  const started = performance.now();
  let bytes = 0;
  for await (const chunk of client.streamOutput({ id })) bytes += chunk.data.length;
  if (bytes !== OUTPUT_BYTES) throw new Error(`streamed ${bytes} bytes of ${OUTPUT_BYTES}`);
  return bytes / (performance.now() - started);
}
