// 5. CLI start-up: `runjob --version` and `runjob list` wall time against `node -e 0` on the same Node.
import { execFile } from "node:child_process";
import { join } from "node:path";
import type { BenchServer } from "./lib/server.ts";
import { summarize, timeEach } from "./lib/stats.ts";
import { ms, type Row, x } from "./lib/table.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const RUNS = 20;
// connect-node imports http, https and http2 (with tls); connect's Headers loads Node's bundled undici.
const LOAD_CLIENT_BUILTINS =
  'import "node:http2"; import "node:tls"; import "node:http"; import "node:https"; new Headers();';

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, args, { env: { ...process.env, ...env } }, (error) =>
      error ? reject(error) : resolve(),
    ),
  );
}

export async function cliStartup(server: BenchServer): Promise<Row[]> {
  const runjob = join(ROOT, "apps/cli/bin/run.js");
  const env = {
    RUNJOB_SERVER: `localhost:${server.port}`,
    RUNJOB_CERT: join(server.certs, "alice.crt"),
    RUNJOB_KEY: join(server.certs, "alice.key"),
    RUNJOB_CA: join(server.certs, "ca.crt"),
  };
  await run([runjob, "list"], env); // warm the compile cache
  const node = summarize(await timeEach(RUNS, () => run(["-e", "0"])));
  // What any Connect client over HTTP/2 and TLS loads before its first line of code runs.
  const builtins = summarize(await timeEach(RUNS, () => run(["--input-type=module", "-e", LOAD_CLIENT_BUILTINS])));
  const version = summarize(await timeEach(RUNS, () => run([runjob, "--version"])));
  const list = summarize(await timeEach(RUNS, () => run([runjob, "list"], env)));
  return [
    {
      benchmark: "runjob --version",
      figure: ms(version.p50),
      floor: `node -e 0 ${ms(node.p50)}`,
      ratio: x(version.p50 / node.p50),
      target: "≤ 2.5×",
      met: version.p50 / node.p50 <= 2.5,
    },
    {
      benchmark: "runjob list",
      figure: ms(list.p50),
      floor: `node -e 0 ${ms(node.p50)}`,
      ratio: x(list.p50 / node.p50),
      target: "≤ 2.5×",
      met: list.p50 / node.p50 <= 2.5,
    },
    {
      benchmark: "runjob list, against the Node modules a Connect client needs",
      figure: ms(list.p50),
      floor: `node + http2, tls, http, https, Headers ${ms(builtins.p50)} (${x(builtins.p50 / node.p50)} node -e 0)`,
      ratio: x(list.p50 / builtins.p50),
      target: "-",
      met: undefined,
    },
  ];
}
