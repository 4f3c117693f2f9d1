// pnpm package:cli: builds dist/runjob-linux-x64 at the repository root (or the path given), runjob as
// one executable that needs no Node on the machine it runs on (Node's single
// executable applications). Steps: bundle sea/main.mjs with every command into
// one CommonJS script; have Node turn it into a SEA blob with a V8 startup
// snapshot of that script's evaluated state; inject the blob into a copy of
// this Node binary with postject.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { build } from "esbuild";
import { lazyBuiltins } from "../lazy-builtins.mjs";
import { uiSeaAssets } from "../ui-assets.mjs";
import { lazyRequires } from "./lazy-requires.mjs";

const here = (path) => new URL(path, import.meta.url).pathname;
const work = here("../dist/sea/");
// An argument names another output (the install test builds into a directory of its own).
const output = process.argv[2] ?? here("../../../dist/runjob-linux-x64");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
mkdirSync(dirname(output), { recursive: true });

await build({
  entryPoints: [here("main.mjs")],
  outfile: `${work}runjob.cjs`,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node22",
  logLevel: "warning",
  // oclif reads tsconfig.json with TypeScript only when running a command from .ts source, never here.
  external: ["typescript"],
  // The page 'runjob ui' serves: SEA assets, outside the startup snapshot.
  define: uiSeaAssets().define,
  // Only what the warm-up and the modules' top levels touch of oclif is evaluated into the snapshot.
  plugins: [lazyBuiltins, lazyRequires()],
  // Connect's `Headers` without undici (src/connection/minimal-headers.ts).
  inject: [here("../src/connection/headers-inject.ts")],
});

writeFileSync(
  `${work}sea-config.json`,
  JSON.stringify({
    main: `${work}runjob.cjs`,
    output: `${work}runjob.blob`,
    disableExperimentalSEAWarning: true,
    useSnapshot: true,
    useCodeCache: true,
    assets: uiSeaAssets().assets,
    // No V8 flags: any flag that differs from Node's defaults changes V8's flag hash, and Node's own code cache
    // for its builtins no longer matches, so http2, tls and the rest were compiled from source on each call
    // (--max-semi-space-size=1 made loading http2 cost 33 instead of 13 ms). The young generation is bounded
    // once a connection is made instead (sea/main.mjs).
  }),
);
execFileSync(process.execPath, ["--experimental-sea-config", `${work}sea-config.json`], { stdio: "inherit" });
// postject rewrites the file it injects into; the result is then copied to the output. Each process
// maps a file postject has just written with more of it resident than a copy of the same bytes
// (measured: 64 against 50 MiB of the executable resident during 'runjob logs'), so what is built
// behaves as an installed copy does.
const injected = `${work}runjob-linux-x64`;
copyFileSync(process.execPath, injected);
execFileSync(
  process.execPath,
  [
    here("../node_modules/postject/dist/cli.js"),
    injected,
    "NODE_SEA_BLOB",
    `${work}runjob.blob`,
    "--sentinel-fuse",
    "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2",
  ],
  { stdio: "inherit" },
);
copyFileSync(injected, output);
chmodSync(output, 0o755);
rmSync(injected);
console.log(`${output}: runjob as a single executable (Node ${process.version}, startup snapshot)`);
