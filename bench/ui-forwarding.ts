// runjob ui: what forwarding the page's calls costs. The page's own transport
// (connect-web's gRPC-Web, over HTTP/1.1 to runjob ui, which calls the server
// over mutual TLS) against runjob's client calling the server directly:
// GetJob round trips, and StreamOutput of a finished 256 MiB. And the jobs
// page in Chromium (when /usr/bin/chromium is there) with 1,000 jobs.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { JobService } from "@jobworker/proto";
import { chromium } from "playwright-core";
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
    const pageRows = existsSync(CHROMIUM) ? await firstPage(server, url) : [];

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
      ...pageRows,
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

const CHROMIUM = "/usr/bin/chromium";
const PAGE_JOBS = 1000;

/**
 * The jobs page with 1,000 jobs: from navigation to the table's 1,000 rows
 * (median of 3, in a fresh browser context each time), against the same
 * browser loading a static page of 1,000 such rows from a plain HTTP server.
 */
async function firstPage(server: BenchServer, url: string): Promise<Row[]> {
  // First, while the server keeps few jobs (an owner keeps at most 1,000 ended ones: more would push page jobs out).
  const smoothBrowser = await chromium.launch({ executablePath: CHROMIUM });
  const smooth = await followSmoothness(smoothBrowser, server, url).finally(() => smoothBrowser.close());
  const clients = Array.from({ length: 8 }, () => server.client());
  await Promise.all(
    clients.map(async (client, worker) => {
      for (let n = worker; n < PAGE_JOBS; n += clients.length) {
        await client.startJob({ command: "/bin/true", name: `page-${n}`, labels: { bench: "ui" } });
      }
    }),
  );
  const row =
    "<tr><td><a href='#'>page-0</a></td><td>/bin/true</td><td>ended exit 0</td><td></td><td></td><td>bench=ui</td><td>1m</td></tr>";
  const staticPage = `<!doctype html><table><tbody>${row.repeat(PAGE_JOBS)}</tbody></table>`;
  const floorServer = createServer((_, response) => response.end(staticPage));
  floorServer.listen(0, "127.0.0.1");
  await once(floorServer, "listening");
  const floorUrl = `http://127.0.0.1:${(floorServer.address() as { port: number }).port}/`;
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  try {
    const figures: number[] = [];
    const floors: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      figures.push(await loadUntilRows(browser, url, "tr[data-job]"));
      floors.push(await loadUntilRows(browser, floorUrl, "tbody tr"));
    }
    const figure = summarize(figures).p50;
    const floor = summarize(floors).p50;
    return [
      {
        benchmark: `runjob ui: jobs page with ${PAGE_JOBS} jobs, navigation to every row shown (median of ${ROUNDS})`,
        figure: ms(figure),
        floor: `static page of ${PAGE_JOBS} rows ${ms(floor)}`,
        ratio: x(figure / floor),
        target: "< 1 s",
        met: figure < 1000,
      },
      ...smooth,
    ];
  } finally {
    await browser.close();
    floorServer.close();
    await clients[0]!.cleanJobs({ labelSelector: "bench=ui" });
  }
}

async function loadUntilRows(browser: import("playwright-core").Browser, url: string, rows: string): Promise<number> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    const started = performance.now();
    await page.goto(url);
    await page.waitForFunction(
      ({ rows, count }) =>
        (
          globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }
        ).document.querySelectorAll(rows).length >= count,
      { rows, count: PAGE_JOBS },
      { timeout: 60_000, polling: "raf" },
    );
    return performance.now() - started;
  } finally {
    await context.close();
  }
}

/** About 10 MB/s of text for 5 s: 100-character lines, 1 MB every 100 ms. */
const TEN_MB_PER_S =
  "i=0; while [ $i -lt 50 ]; do head -c 1000000 /dev/zero | tr '\\0' x | fold -w 99; sleep 0.1; i=$((i+1)); done";

type AnimationFrames = { requestAnimationFrame(callback: (time: number) => void): void };

/**
 * A job page following a job that writes about 10 MB/s: the longest gaps
 * between animation frames while it does (p99, and the count over 50 ms),
 * against the browser's own frame interval (the median gap): smooth is a p99
 * close to it.
 */
async function followSmoothness(
  browser: import("playwright-core").Browser,
  server: BenchServer,
  url: string,
): Promise<Row[]> {
  const client = server.client();
  const measure = async (id: string, until: () => Promise<unknown>): Promise<number[]> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await context.newPage();
      await page.goto(`${url}#/jobs/${id}`);
      await page.locator(".terminal .xterm-rows").waitFor({ timeout: 30_000 });
      await page.evaluate(() => {
        const frames = globalThis as unknown as AnimationFrames & { gaps: number[] };
        frames.gaps = [];
        let last = 0;
        const tick = (time: number) => {
          if (last) frames.gaps.push(time - last);
          last = time;
          frames.requestAnimationFrame(tick);
        };
        frames.requestAnimationFrame(tick);
      });
      await until();
      return await page.evaluate(() => (globalThis as unknown as { gaps: number[] }).gaps);
    } finally {
      await context.close();
    }
  };
  const { job } = await client.startJob({ command: "/bin/sh", args: ["-c", `sleep 1; ${TEN_MB_PER_S}`] });
  const id = job?.id ?? "";
  const busy = await measure(id, () => client.waitJob({ id }));
  await client.deleteJob({ id });
  const { p50, p99 } = summarize(busy);
  const long = busy.filter((gap) => gap > 50).length;
  return [
    {
      benchmark: `runjob ui: job page following ~10 MB/s of output, p99 gap between frames (${busy.length} frames, ${long} over 50 ms)`,
      figure: ms(p99),
      floor: `the browser's frame interval (p50 gap) ${ms(p50)}`,
      ratio: x(p99 / p50),
      target: "≤ 3",
      met: p99 / p50 <= 3,
    },
  ];
}
