// pnpm bench: runs every benchmark against a real jobworker-server and prints one
// markdown table. Figures are ratios against floors measured in the same run;
// nothing here fails on a number.

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { cliStartup } from "./cli-startup.ts";
import { cliTargets } from "./cli-targets.ts";
import { outputCompression } from "./compression.ts";
import { fleet } from "./fleet.ts";
import { followLatency } from "./follow-latency.ts";
import { interactive } from "./interactive.ts";
import { waitForQuietMachine } from "./lib/machine.ts";
import { startServer } from "./lib/server.ts";
import { markdownTable, type Row } from "./lib/table.ts";
import { outputThroughput } from "./output-throughput.ts";
import { perJobOverhead } from "./per-job-overhead.ts";
import { startLatency } from "./start-latency.ts";
import { uiForwarding } from "./ui-forwarding.ts";
import { watchFanout } from "./watch-fanout.ts";

// The clients of the benchmarks, and the floors, run in this process, and its garbage collector
// must not weigh on them more than on the code they measure (bench/README.md has the figures):
// - V8's memory reducer shrinks an idle process's heap limits, and this process idles while it
//   waits for a quiet machine: after that a few MB of buffers cost a full mark-compact, hundreds
//   of them per gigabyte streamed.
// - With V8's default young generation, a streaming client's buffers sometimes outlive two
//   scavenges; then the gigabyte costs 20 mark-compacts or more, and the client half again its
//   CPU per GiB, in some rounds and not others. A 32 MiB semi-space lets them die young.
// The server is a process of its own, started with Node's defaults.
const GC_FLAGS = ["--no-memory-reducer", "--max-semi-space-size=32"];
if (!GC_FLAGS.every((flag) => process.execArgv.includes(flag))) {
  const rerun = spawnSync(process.execPath, [...GC_FLAGS, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
  });
  process.exit(rerun.status ?? 1);
}

const only = process.argv.slice(2);
// cli first: after thousands of jobs, starting any process stays slow for a while
// even once the CPUs are idle again, and `node -e 0` is cli's floor.
const benchmarks = {
  cli: cliStartup,
  "cli-targets": cliTargets,
  start: startLatency,
  output: outputThroughput,
  compression: outputCompression,
  follow: followLatency,
  overhead: perJobOverhead,
  watchers: watchFanout,
  interactive,
  ui: uiForwarding,
  fleet,
};

const server = await startServer();
const rows: Row[] = [];
try {
  for (const [name, bench] of Object.entries(benchmarks)) {
    if (only.length > 0 && !only.includes(name)) continue;
    const waited = await waitForQuietMachine();
    process.stderr.write(`running ${name} (machine quiet after ${waited.toFixed(0)} s)...\n`);
    rows.push(...(await bench(server)));
  }
} finally {
  await server.stop();
}
const kernel = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
console.log(
  `\nMachine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${kernel}, Node ${process.version}\n`,
);
console.log(markdownTable(rows));
