// Profiles what a job start costs the server: rounds of start → wait of
// /bin/true from 8 clients (the start benchmark's throughput run), printing
// the server's own CPU per job for each round. Not part of `pnpm bench`: a
// tool for finding where that CPU goes.
//
//   node bench/profile-starts.ts [--jobs 1000] [--rounds 3] [--cpu-prof DIR] [--perf] [--pause]
//
// --cpu-prof DIR  the server writes a V8 CPU profile into DIR when it stops
// --perf          the server names its JS frames for `perf record -g -p PID`
// --pause         prints the server's pid, then waits for Enter before the rounds

import { once } from "node:events";
import { parseArgs } from "node:util";
import { processCpuMs } from "./lib/machine.ts";
import { type JobClient, startServer } from "./lib/server.ts";

const CLIENTS = 8;
const WARM_UP_JOBS = 50;

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "1000" },
    rounds: { type: "string", default: "3" },
    "cpu-prof": { type: "string" },
    perf: { type: "boolean", default: false },
    pause: { type: "boolean", default: false },
  },
});
const nodeOptions = [
  ...(values["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${values["cpu-prof"]}`] : []),
  ...(values.perf ? ["--perf-basic-prof", "--interpreted-frames-native-stack"] : []),
];
process.env.BENCH_SERVER_NODE_OPTIONS = nodeOptions.join(" ");

const server = await startServer();
try {
  const clients = Array.from({ length: CLIENTS }, () => server.client());
  const runJob = async (client: JobClient) => {
    const { job } = await client.startJob({ command: "/bin/true" });
    await client.waitJob({ id: job?.id ?? "" });
  };
  for (let i = 0; i < WARM_UP_JOBS; i++) await runJob(clients[0] as JobClient);
  if (values.pause) {
    console.log(`server pid ${server.pid}: press Enter to start`);
    await once(process.stdin, "data");
    process.stdin.pause();
  }
  const jobs = Number(values.jobs);
  for (let round = 1; round <= Number(values.rounds); round++) {
    const before = await processCpuMs(server.pid);
    const started = performance.now();
    let next = 0;
    await Promise.all(
      clients.map(async (client) => {
        while (next++ < jobs) await runJob(client);
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const after = await processCpuMs(server.pid);
    const user = (after.user - before.user) / jobs;
    const system = (after.system - before.system) / jobs;
    console.log(
      `round ${round}: ${(jobs / seconds).toFixed(0)} jobs/s, server CPU per job ${(user + system).toFixed(2)} ms ` +
        `(user ${user.toFixed(2)}, system ${system.toFixed(2)})`,
    );
  }
} finally {
  await server.stop();
}
