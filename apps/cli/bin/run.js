#!/usr/bin/env node
// runjob's entry point. Start-up time matters in scripts: Node's compile cache
// is on, the commands and their dependencies are one bundled file, and
// `--version` is answered without loading even that.
import { readFileSync } from "node:fs";
import module from "node:module";

module.enableCompileCache?.();

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-v")) {
  const { name, version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  process.stdout.write(`${name}/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else {
  const { execute } = await import("../dist/runjob.js");
  await execute({ dir: import.meta.url });
}
