import { build } from "esbuild";
import { SOURCES } from "./paths.js";

/**
 * Bundles jobworker-server and every dependency it imports into one ES module
 * that needs nothing but Node's built-ins: no node_modules on the host.
 */
export async function bundleServer(outfile: string): Promise<void> {
  await build({
    entryPoints: [SOURCES.serverEntry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    minify: false,
    sourcemap: false,
    legalComments: "eof",
    // CommonJS dependencies (pino, prom-client) call require() for Node built-ins; an ES module has none.
    banner: {
      js: 'import { createRequire as __jobworkerRequire } from "node:module";\nconst require = __jobworkerRequire(import.meta.url);',
    },
    logLevel: "warning",
  });
}
