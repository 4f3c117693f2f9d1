// Bundles the page into dist/: index.html, app.js and app.css (xterm's styles
// with ours). 'runjob ui' embeds these three files (apps/cli/bundle.mjs), so
// the page is served without this repository.
import { copyFile, mkdir } from "node:fs/promises";
import { build } from "esbuild";

const here = (path) => new URL(path, import.meta.url).pathname;
await mkdir(here("dist"), { recursive: true });
await build({
  entryPoints: { app: here("src/main.tsx") },
  outdir: here("dist"),
  bundle: true,
  minify: true,
  format: "esm",
  target: ["chrome120", "firefox120", "safari17"],
  jsx: "automatic",
  jsxImportSource: "preact",
  logLevel: "warning",
  legalComments: "none",
});
await copyFile(here("src/index.html"), here("dist/index.html"));
