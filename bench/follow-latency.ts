// 3. Follow latency: a job prints its clock every 10 ms; the time from that write to
// a following client receiving the line.
import type { BenchServer } from "./lib/server.ts";
import { summarize } from "./lib/stats.ts";
import { ms, type Row } from "./lib/table.ts";

const LINES = 500;

export async function followLatency(server: BenchServer): Promise<Row[]> {
  const client = server.client();
  const script = `i=0; while [ $i -lt ${LINES} ]; do date +%s%N; sleep 0.01; i=$((i+1)); done`;
  const { job } = await client.startJob({ command: "/bin/sh", args: ["-c", script] });
  const latencies: number[] = [];
  let partial = "";
  for await (const chunk of client.streamOutput({ id: job?.id ?? "", follow: true })) {
    const receivedNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
    const lines = (partial + Buffer.from(chunk.data).toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) latencies.push(Number(receivedNs - BigInt(line)) / 1e6);
  }
  const s = summarize(latencies.slice(10));
  return [
    {
      benchmark: `follow latency, p50 (${s.count} lines)`,
      figure: ms(s.p50),
      floor: "-",
      ratio: "-",
      target: "p50 ≤ 5 ms",
      met: s.p50 <= 5,
    },
    {
      benchmark: "follow latency, p99",
      figure: ms(s.p99),
      floor: "-",
      ratio: "-",
      target: "p99 ≤ 20 ms",
      met: s.p99 <= 20,
    },
  ];
}
