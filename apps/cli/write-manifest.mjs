// Writes oclif.manifest.json after the build, so runjob loads only the command it runs
// instead of importing every command to learn their flags (oclif's `manifest` command does the same).
import { writeFile } from "node:fs/promises";
import { Plugin } from "@oclif/core";

const plugin = new Plugin({
  root: import.meta.dirname,
  type: "core",
  ignoreManifest: true,
  errorOnManifestCreate: true,
});
await plugin.load();
await writeFile(new URL("oclif.manifest.json", import.meta.url), `${JSON.stringify(plugin.manifest, null, 2)}\n`);
console.log(`oclif.manifest.json: ${Object.keys(plugin.manifest.commands).length} commands`);
