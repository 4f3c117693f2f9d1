// An esbuild plugin for sea/build.mjs: @oclif/core's modules (TypeScript
// compiled to CommonJS) require every module they might use at their top, so
// evaluating oclif for the startup snapshot evaluated all of it, its help
// renderer, ux, ejs, semver and glob matchers and the Node builtins they load
// (child_process, readline, perf_hooks, dgram, tty), and each call paid for
// deserializing that heap. Here each `const x_1 = require("y")` becomes a
// function that requires "y" on first use, so the snapshot holds what the
// warm-up (a config load and each command's flag parsing) and the modules'
// own top-level code touch, and the rest is compiled only by the call that
// needs it. Which code is hot is found by running it, not by a list.
//
// Safe for this shape of code: tsc names such bindings `<name>_<n>` and uses
// them as `x_1.member` or `(0, x_1.member)(...)`, which `x_1().member` keeps;
// a binding used any other way keeps its require where it was.
import { readFile } from "node:fs/promises";

/** `const x_1 = require("y");`, possibly wrapped in tsc's `__importDefault`/`__importStar`. */
const REQUIRE =
  /^(?:const|var|let) ([A-Za-z_$][\w$]*) = ((?:__importDefault|__importStar)\()?require\((["'][^"']+["'])\)\)?;$/gm;
/** How a lazy binding may be used: a member read (`x_1.y`) only. Tested on the text after a use. */
const LAZY_SAFE_USE = /^\s*\.\s*[A-Za-z_$]/;

export function lazyTopLevelRequires(source) {
  const bindings = [];
  const withoutDeclarations = source.replace(REQUIRE, (line, name, wrapper, specifier) => {
    const index = bindings.push({ line, name, wrapper: wrapper?.slice(0, -1), specifier }) - 1;
    return `/*lazy-require:${index}*/`;
  });
  let out = withoutDeclarations;
  for (const binding of bindings) {
    const use = new RegExp(`(?<![\\w$.'"])${binding.name.replace(/\$/g, "\\$")}(?![\\w$])`, "g");
    const uses = [...out.matchAll(use)];
    // Any other use (called, passed, compared) keeps the require where it was.
    binding.lazy = uses.every((match) =>
      LAZY_SAFE_USE.test(out.slice(match.index + match[0].length, match.index + match[0].length + 80)),
    );
    // Parenthesized: `new x_1.C()` must stay `new (x_1().C)()`, not become `(new x_1()).C()`.
    if (binding.lazy) out = out.replace(use, `(${binding.name}())`);
  }
  return out.replace(/\/\*lazy-require:(\d+)\*\//g, (_marker, index) => {
    const { line, name, wrapper, specifier, lazy } = bindings[Number(index)];
    if (!lazy) return line;
    const load = wrapper ? `${wrapper}(require(${specifier}))` : `require(${specifier})`;
    return `let ${name}$loaded; const ${name} = () => (${name}$loaded ??= ${load});`;
  });
}

/** The plugin: @oclif/core's own modules only (`packagePattern` matches their paths). */
export function lazyRequires(packagePattern = /[/\\]@oclif[/\\]core[/\\]lib[/\\].*\.js$/) {
  return {
    name: "lazy-requires",
    setup(build) {
      build.onLoad({ filter: packagePattern }, async (args) => ({
        contents: lazyTopLevelRequires(await readFile(args.path, "utf8")),
        loader: "js",
      }));
    },
  };
}
