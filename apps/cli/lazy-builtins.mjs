// An esbuild plugin for bundle.mjs and sea/build.mjs: connect-node imports
// node:http, node:https and node:zlib at the top of its modules (for HTTP/1.1
// transports and compression runjob never uses), and node:http2, which the
// executable's startup snapshot cannot hold (ARCHITECTURE.md §8). Here each of
// those imports gets a module that loads the real one on first use. So a call
// loads http2 and tls and nothing else of Node's network stack (each builtin
// costs its compile and evaluation on every call: the http family and zlib
// were about 10 ms of a `runjob status`), and connect-node itself can be
// evaluated once, into the snapshot.
//
// Only the names connect-node uses are exported: esbuild warns about any
// other ("Import ... will always be undefined"), and the build fails on it.

/**
 * Where the single executable learns that a connection is made (sea/main.mjs): http2's `connect` hands each
 * session it returns to the function registered here, if any.
 */
export const HTTP2_SESSION_HOOK = "runjob.http2-session";

/** What connect-node 2.x uses of each module. `constants` is an object: its properties are read through. */
const USED = {
  http: { functions: ["request"], objects: [] },
  https: { functions: ["request"], objects: [] },
  http2: { functions: ["connect"], objects: ["constants"] },
  zlib: { functions: ["gzip", "gunzip", "brotliCompress", "brotliDecompress"], objects: [] },
};

function lazyModule(name) {
  const { functions, objects } = USED[name];
  const announce = (fn) =>
    name === "http2" && fn === "connect" ? `globalThis[Symbol.for("${HTTP2_SESSION_HOOK}")]?.(result); ` : "";
  return [
    `let loaded;`,
    `const load = () => (loaded ??= require("node:${name}"));`,
    ...functions.map(
      (fn) => `export function ${fn}(...args) { const result = load().${fn}(...args); ${announce(fn)}return result; }`,
    ),
    ...objects.map(
      (object) =>
        `export const ${object} = new Proxy({}, { get: (_, key) => load().${object}[key], has: (_, key) => key in load().${object}, ownKeys: () => Reflect.ownKeys(load().${object}), getOwnPropertyDescriptor: (_, key) => Reflect.getOwnPropertyDescriptor(load().${object}, key) });`,
    ),
  ].join("\n");
}

export const lazyBuiltins = {
  name: "lazy-builtins",
  setup(build) {
    const names = Object.keys(USED).join("|");
    build.onResolve({ filter: new RegExp(`^(node:)?(${names})$`) }, (args) => {
      if (!/[/\\]@connectrpc[/\\]connect-node[/\\]/.test(args.importer)) return undefined;
      return { path: args.path.replace(/^node:/, ""), namespace: "lazy-builtin" };
    });
    build.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, (args) => ({
      contents: lazyModule(args.path),
      loader: "js",
    }));
    build.onEnd((result) => {
      const undefinedImports = result.warnings.filter((warning) => /will always be undefined/.test(warning.text));
      if (undefinedImports.length > 0) {
        throw new Error(
          `lazy-builtins.mjs: connect-node uses more than it lists: ${undefinedImports.map((w) => w.text).join("; ")}`,
        );
      }
    });
  },
};
