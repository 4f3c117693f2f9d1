// The page 'runjob ui' serves (apps/web, built before this package by turbo),
// as an esbuild `define` of __RUNJOB_UI_ASSETS__ (src/ui/assets.ts): bundle.mjs
// and sea/build.mjs embed it, so dist/runjob.js and the single executable serve
// the page without the repository.
import { readFileSync } from "node:fs";

const FILES = ["index.html", "app.js", "app.css"];
const webFile = (file) => new URL(`../web/dist/${file}`, import.meta.url).pathname;

export function uiAssetsDefine() {
  const assets = Object.fromEntries(FILES.map((file) => [file, readFileSync(webFile(file), "utf8")]));
  return { __RUNJOB_UI_ASSETS__: JSON.stringify(assets) };
}

/**
 * For sea/build.mjs: the page as the executable's SEA assets (sea-config
 * `assets`), read with node:sea when 'runjob ui' starts. Embedded in the
 * script, it was about 1 MB of the startup snapshot (the source text and the
 * strings) that every call deserialized.
 */
export function uiSeaAssets() {
  return {
    define: { __RUNJOB_UI_ASSETS__: '"sea"' },
    assets: Object.fromEntries(FILES.map((file) => [`ui/${file}`, webFile(file)])),
  };
}
