// Packs @jobworker/cli for `npm install -g`: dist/jobworker-cli-<version>.tgz
// (or into the directory given), and prints the tarball's path.
// dist/runjob.js already holds every dependency (bundle.mjs), so the package
// has none: it installs offline, and from nothing but the tarball. Its
// package.json is this one without the workspace's dependencies and without
// the autocomplete plugin, which would be one (runjob's own commands are all
// there).
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const here = (path) => new URL(path, import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(here("package.json"), "utf8"));
const stage = here("dist/pack/package/");
rmSync(here("dist/pack/"), { recursive: true, force: true });
mkdirSync(`${stage}dist`, { recursive: true });
cpSync(here("bin"), `${stage}bin`, { recursive: true });
for (const file of ["runjob.js", "runjob.js.map"]) cpSync(here(`dist/${file}`), `${stage}dist/${file}`);
cpSync(here("oclif.manifest.json"), `${stage}oclif.manifest.json`);
const { dependencies, devDependencies, scripts, exports, ...published } = pkg;
writeFileSync(
  `${stage}package.json`,
  `${JSON.stringify(
    {
      ...published,
      files: ["bin", "dist", "oclif.manifest.json"],
      engines: { node: ">=22.15" },
      oclif: { ...pkg.oclif, plugins: [] },
    },
    null,
    2,
  )}\n`,
);
const destination = process.argv[2] ?? here("dist/");
const tarball = execFileSync("npm", ["pack", "--silent", "--pack-destination", destination], {
  cwd: stage,
  encoding: "utf8",
  env: { ...process.env, npm_config_cache: here("dist/pack/.npm-cache") },
})
  .trim()
  .split("\n")
  .pop();
console.log(join(destination, tarball ?? ""));
