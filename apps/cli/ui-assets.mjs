// The page 'runjob ui' serves (apps/web, built before this package by turbo),
// as an esbuild `define` of __RUNJOB_UI_ASSETS__ (src/ui/assets.ts): bundle.mjs
// and sea/build.mjs embed it, so dist/runjob.js and the single executable serve
// the page without the repository.
import { readFileSync } from "node:fs";

export function uiAssetsDefine() {
  const web = (file) => readFileSync(new URL(`../web/dist/${file}`, import.meta.url), "utf8");
  const assets = Object.fromEntries(["index.html", "app.js", "app.css"].map((file) => [file, web(file)]));
  return { __RUNJOB_UI_ASSETS__: JSON.stringify(assets) };
}
