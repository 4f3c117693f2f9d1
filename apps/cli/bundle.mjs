// Bundles src/runjob.ts with its dependencies into dist/runjob.js (after tsc has
// type-checked): loading one pre-linked file is what makes runjob start fast.
import { build } from "esbuild";
import { lazyBuiltins } from "./lazy-builtins.mjs";
import { uiAssetsDefine } from "./ui-assets.mjs";

await build({
  entryPoints: [new URL("src/runjob.ts", import.meta.url).pathname],
  outfile: new URL("dist/runjob.js", import.meta.url).pathname,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  sourcemap: "linked",
  logLevel: "warning",
  define: uiAssetsDefine(),
  plugins: [lazyBuiltins],
  // Connect's `Headers` without undici (src/connection/minimal-headers.ts).
  inject: [new URL("src/connection/headers-inject.ts", import.meta.url).pathname],
  // oclif reads tsconfig.json with TypeScript only when running a command from .ts source, never from this bundle.
  external: ["typescript"],
  // oclif is CommonJS and requires Node's built-in modules; an ES module has no `require` of its own.
  banner: {
    js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);',
  },
});
