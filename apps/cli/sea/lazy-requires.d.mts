import type { Plugin } from "esbuild";

/** A CommonJS module's source with its top-level `const x_1 = require("y")` bindings loaded on first use. */
export function lazyTopLevelRequires(source: string): string;
/** The esbuild plugin applying lazyTopLevelRequires to the modules whose paths match. */
export function lazyRequires(packagePattern?: RegExp): Plugin;
