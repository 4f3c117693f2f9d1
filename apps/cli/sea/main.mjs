// The entry of runjob as a single executable application (sea/build.mjs). The
// bundle's pure-JS part (oclif, the commands, protobuf-es descriptors,
// connect's core) is evaluated once, when the V8 startup snapshot is built;
// each run starts from that heap and only runs main(). Node's http2 and tls
// cannot live in a snapshot (ARCHITECTURE.md §8): the commands load them when
// they first connect.
//
// oclif normally reads package.json, oclif.manifest.json and the commands'
// module from its root directory; an executable has no such directory, so
// all three are embedded here and handed to oclif directly.
import { isIP } from "node:net";
import { setFlagsFromString, startupSnapshot } from "node:v8";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { JobService } from "@jobworker/proto";
import { Config, execute, Parser, Plugin } from "@oclif/core";
import manifest from "../oclif.manifest.json" with { type: "json" };
import pjson from "../package.json" with { type: "json" };
// Evaluated into the snapshot with the rest: connect-node loads http2 only when a call connects (lazy-builtins.mjs).
import "../src/connection/client.ts";
import { COMMANDS, commandNotFound } from "../src/runjob.ts";

// No plugins (autocomplete installs shell scripts next to a package) and no hooks loaded from files.
const seaPjson = { ...pjson, oclif: { ...pjson.oclif, plugins: [], hooks: {} } };

Object.assign(Plugin.prototype, {
  // The manifest built with the package: oclif would otherwise read it from the root directory.
  async _manifest() {
    this.commandIDs = Object.keys(manifest.commands);
    this.hasManifest = true;
    return manifest;
  },
  // The commands are in this executable: oclif would otherwise import them from a file.
  async loadCommandsFromTarget() {
    this.commandCache = COMMANDS;
    return COMMANDS;
  },
});

// oclif sorts the command list with localeCompare, and the first localeCompare
// in a process sets up ICU's collator: about 25 ms, a third of a call's
// start-up. Command ids are lowercase ASCII, which plain comparison orders
// the same way; the real localeCompare is back as soon as the plugin is loaded.
const load = Plugin.prototype.load;
const localeCompare = String.prototype.localeCompare;
function compareCodeUnits(that) {
  const self = String(this);
  return self < that ? -1 : self > that ? 1 : 0;
}
Object.assign(Plugin.prototype, {
  async load(...args) {
    String.prototype.localeCompare = compareCodeUnits;
    try {
      return await load.apply(this, args);
    } finally {
      String.prototype.localeCompare = localeCompare;
    }
  },
});

const runHook = Config.prototype.runHook;
Object.assign(Config.prototype, {
  // The one hook runjob has, called directly; there are no hook files to load.
  async runHook(event, options, ...rest) {
    if (event !== "command_not_found") return { successes: [], failures: [] };
    if (this.plugins.size === 0) return runHook.call(this, event, options, ...rest);
    const result = await commandNotFound.call({ config: this }, { ...options, config: this, context: {} });
    return { successes: [{ result, plugin: this.rootPlugin }], failures: [] };
  },
});

// V8's young generation grows to 16 MiB per semi-space by default: for 'runjob logs' of 1 GiB, whose chunks
// die young, that was 20 of its 105 MiB peak RSS; kept at its initial size, the same read took the same CPU.
// Set with --max-semi-space-size at start-up, the flag cost each call Node's code cache for its builtins (a V8
// flag changes the hash that cache is checked against), so it is set here, once the first connection is made:
// by then http2, tls, net and dns are loaded, and the large reads have not begun.
// lazy-builtins.mjs hands each http2 session to the function under HTTP2_SESSION_HOOK.
const HTTP2_SESSION_HOOK = Symbol.for("runjob.http2-session");
globalThis[HTTP2_SESSION_HOOK] = (session) => {
  delete globalThis[HTTP2_SESSION_HOOK];
  session.once("connect", () => setFlagsFromString("--semi-space-growth-factor=1"));
};

function main() {
  // Where the executable is stands in for the package root; nothing is read from it.
  return execute({
    args: process.argv.slice(2),
    loadOptions: { root: process.execPath, pjson: seaPjson, isRoot: true },
  });
}

/**
 * Runs, while the snapshot is built, what every call runs first: loading
 * oclif's config and parsing each command's flags. The snapshot keeps the
 * bytecode V8 compiled for it, so a call starts without compiling it again.
 * Nothing of this run's state is used afterwards: main() loads its own config.
 */
async function warmUp() {
  const config = await Config.load({ root: process.execPath, pjson: seaPjson, isRoot: true });
  for (const id of config.commandIDs) {
    const command = await config.findCommand(id)?.load();
    if (!command) continue;
    await Parser.parse(["--json"], {
      flags: { ...command.baseFlags, ...command.flags },
      args: {},
      strict: false,
    }).catch(() => {});
  }
  // http2.connect, net's connect and dns.lookup each ask net.isIP whether the server's host is an address:
  // V8 compiles net's IPv6 pattern, a large regular expression, on its first use and again to machine
  // code on its second, about 3 ms of CPU a call. Compiled here, both are kept in the snapshot.
  for (let i = 0; i < 3; i++) isIP("localhost");
  // Each call encodes its request and decodes the answer: the codec's code for every JobService message,
  // compiled here, is not compiled again by each call.
  for (const method of Object.values(JobService.method)) {
    for (const schema of [method.input, method.output]) {
      for (let i = 0; i < 2; i++) fromBinary(schema, toBinary(schema, create(schema)));
    }
  }
}

if (startupSnapshot.isBuildingSnapshot()) {
  startupSnapshot.setDeserializeMainFunction(main);
  warmUp().catch((error) => {
    process.stderr.write(`warning: the snapshot's warm-up failed (${error.message}); runjob only starts slower\n`);
  });
} else main();
