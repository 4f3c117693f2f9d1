// 3. Follow latency: a job prints its clock every 10 ms; the time from that write to
// a following client receiving the line, against a floor measured in the same run: the
// same writer bare, its file watched (inotify) by a process that reads each new line and
// writes it to a TLS socket (bench/lib/follow-floor-watcher.ts).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { connect } from "node:tls";
import type { BenchServer } from "./lib/server.ts";
import { summarize } from "./lib/stats.ts";
import { ms, type Row, x } from "./lib/table.ts";

const LINES = 500;
/** Lines left out at the start of each run, while both sides warm up. */
const WARM_UP = 10;
const SCRIPT = `i=0; while [ $i -lt ${LINES} ]; do date +%s%N; sleep 0.01; i=$((i+1)); done`;
/** The cipher the server negotiates with runjob, so the floor encrypts the same way. */
const FLOOR_CIPHER = "TLS_AES_256_GCM_SHA384";
const WATCHER = new URL("./lib/follow-floor-watcher.ts", import.meta.url).pathname;

export async function followLatency(server: BenchServer): Promise<Row[]> {
  const floor = summarize((await floorLatencies(server.certs)).slice(WARM_UP));
  const client = server.client();
  const { job } = await client.startJob({ command: "/bin/sh", args: ["-c", SCRIPT] });
  const lines = new LineClock();
  for await (const chunk of client.streamOutput({ id: job?.id ?? "", follow: true })) lines.received(chunk.data);
  const s = summarize(lines.latencies.slice(WARM_UP));
  return [
    {
      benchmark: `follow latency, p50 (${s.count} lines)`,
      figure: ms(s.p50),
      floor: `inotify watcher to TLS socket ${ms(floor.p50)}`,
      ratio: x(s.p50 / floor.p50),
      target: "≤ 2.0× and ≤ 5 ms",
      met: s.p50 / floor.p50 <= 2 && s.p50 <= 5,
    },
    {
      benchmark: "follow latency, p99",
      figure: ms(s.p99),
      floor: `inotify watcher to TLS socket ${ms(floor.p99)}`,
      ratio: x(s.p99 / floor.p99),
      target: "p99 ≤ 20 ms",
      met: s.p99 <= 20,
    },
  ];
}

/** Turns received bytes into lines of `date +%s%N` and each into its delay until now, in ms. */
class LineClock {
  readonly latencies: number[] = [];
  private partial = "";

  received(data: Uint8Array): void {
    const receivedNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
    const lines = (this.partial + Buffer.from(data).toString()).split("\n");
    this.partial = lines.pop() ?? "";
    for (const line of lines) this.latencies.push(Number(receivedNs - BigInt(line)) / 1e6);
  }
}

/** The same writer, bare, into a file a watcher process serves over TLS: the latency of each line. */
async function floorLatencies(certs: string): Promise<number[]> {
  const scratch = await mkdtemp("/var/tmp/jobworker-bench-follow-");
  const file = join(scratch, "out.log");
  await writeFile(file, "");
  const watcher = spawn(
    process.execPath,
    [WATCHER, file, join(certs, "server.key"), join(certs, "server.crt"), FLOOR_CIPHER],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  try {
    const [portLine] = (await once(createInterface({ input: watcher.stdout! }), "line")) as [string];
    const socket = connect({
      port: Number(portLine),
      host: "127.0.0.1",
      servername: "localhost",
      ca: await readFile(join(certs, "ca.crt")),
      minVersion: "TLSv1.3",
      ciphers: FLOOR_CIPHER,
    });
    await once(socket, "secureConnect");
    const lines = new LineClock();
    socket.on("data", (data: Buffer) => lines.received(data));
    const writer = spawn("/bin/sh", ["-c", `(${SCRIPT}) >> ${file}`], { stdio: "ignore" });
    await once(writer, "exit");
    // The last line is in flight for at most a few ms; wait for it, bounded.
    const deadline = performance.now() + 5_000;
    while (lines.latencies.length < LINES && performance.now() < deadline) {
      await Promise.race([once(socket, "data"), sleep(deadline - performance.now())]);
    }
    socket.destroy();
    return lines.latencies;
  } finally {
    watcher.kill();
    await rm(scratch, { recursive: true, force: true });
  }
}
