import { readFileSync } from "node:fs";

/** The page's files, by URL path. */
export type UiAssets = ReadonlyMap<string, { body: string; type: string }>;

const FILES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
};

// Set by bundle.mjs to apps/web/dist's files, so the bundle carries the page; "sea" in the single executable,
// which carries them as SEA assets (ui-assets.mjs).
declare const __RUNJOB_UI_ASSETS__: Record<string, string> | "sea" | undefined;

/**
 * The built page (apps/web): embedded in dist/runjob.js at bundle time, or,
 * when running from tsc's output, read from the web package's dist/.
 */
export function uiAssets(): UiAssets {
  const embedded = typeof __RUNJOB_UI_ASSETS__ === "undefined" ? undefined : __RUNJOB_UI_ASSETS__;
  const assets = new Map<string, { body: string; type: string }>();
  for (const [file, type] of Object.entries(FILES)) {
    const body =
      embedded === "sea"
        ? process.getBuiltinModule("node:sea").getAsset(`ui/${file}`, "utf8")
        : (embedded?.[file] ?? readFileSync(new URL(`../../../web/dist/${file}`, import.meta.url), "utf8"));
    assets.set(`/${file}`, { body, type });
  }
  assets.set("/", assets.get("/index.html")!);
  return assets;
}
