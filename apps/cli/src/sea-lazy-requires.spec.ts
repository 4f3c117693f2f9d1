import { describe, expect, it } from "vitest";
import { lazyTopLevelRequires } from "../sea/lazy-requires.mjs";

/** Runs CommonJS source with a `require` that records which modules were loaded, in order. */
function evaluate(source: string, modules: Record<string, unknown>) {
  const loaded: string[] = [];
  const module = { exports: {} as Record<string, unknown> };
  const require = (specifier: string) => {
    loaded.push(specifier);
    return modules[specifier];
  };
  new Function("require", "module", "exports", "__importDefault", source)(
    require,
    module,
    module.exports,
    (mod: { __esModule?: boolean }) => (mod?.__esModule ? mod : { default: mod }),
  );
  return { exports: module.exports, loaded };
}

describe("the executable's lazy top-level requires (sea/lazy-requires.mjs)", () => {
  it("loads a module bound as x_1 only when a member of it is first read, and once", () => {
    const source = [
      'const help_1 = require("./help");',
      'const ejs_1 = __importDefault(require("ejs"));',
      "exports.show = () => (0, help_1.render)() + ejs_1.default.name;",
    ].join("\n");
    const { exports, loaded } = evaluate(lazyTopLevelRequires(source), {
      "./help": { render: () => "help:" },
      ejs: { name: "ejs" },
    });
    expect(loaded).toEqual([]);
    const show = exports.show as () => string;
    expect(show()).toBe("help:ejs");
    expect(show()).toBe("help:ejs");
    expect(loaded).toEqual(["./help", "ejs"]);
  });

  it("keeps `new x_1.Class()` constructing the module's class", () => {
    const source = 'const loader_1 = require("./loader");\nexports.make = () => new loader_1.default(2);';
    class Loader {
      constructor(readonly n: number) {}
    }
    const { exports } = evaluate(lazyTopLevelRequires(source), { "./loader": { default: Loader } });
    expect((exports.make as () => Loader)()).toEqual(new Loader(2));
  });

  it("leaves a binding used other than as x.member required where it was", () => {
    const source = 'const wordwrap = require("wordwrap");\nexports.wrap = (s) => wordwrap(4)(s);';
    const transformed = lazyTopLevelRequires(source);
    expect(transformed).toBe(source);
    const { loaded } = evaluate(transformed, { wordwrap: () => (s: string) => s });
    expect(loaded).toEqual(["wordwrap"]);
  });
});
