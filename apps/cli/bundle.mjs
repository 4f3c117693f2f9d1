// Bundles src/runjob.ts with its dependencies into dist/runjob.js (after tsc has
// type-checked): loading one pre-linked file is what makes runjob start fast.
import { readFileSync } from "node:fs";
import { build } from "esbuild";

// The page 'runjob ui' serves (apps/web, built before this package by turbo), embedded so the bundle and the
// single executable serve it without the repository.
const web = (file) => readFileSync(new URL(`../web/dist/${file}`, import.meta.url), "utf8");
const uiAssets = Object.fromEntries(["index.html", "app.js", "app.css"].map((file) => [file, web(file)]));

await build({
  entryPoints: [new URL("src/runjob.ts", import.meta.url).pathname],
  outfile: new URL("dist/runjob.js", import.meta.url).pathname,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  sourcemap: "linked",
  logLevel: "warning",
  define: { __RUNJOB_UI_ASSETS__: JSON.stringify(uiAssets) },
  // oclif reads tsconfig.json with TypeScript only when running a command from .ts source, never from this bundle.
  external: ["typescript"],
  // oclif is CommonJS and requires Node's built-in modules; an ES module has no `require` of its own.
  banner: {
    js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);',
  },
});
