// runjob as one module: every command and what they import, bundled by
// bundle.mjs into dist/runjob.js so start-up reads one file instead of resolving
// and compiling hundreds. oclif finds the commands through COMMANDS ("explicit"
// strategy in package.json).
import Attach from "./commands/attach.js";
import Clean from "./commands/clean.js";
import Config from "./commands/config.js";
import ContextAdd from "./commands/context/add.js";
import ContextLs from "./commands/context/ls.js";
import ContextRm from "./commands/context/rm.js";
import ContextUse from "./commands/context/use.js";
import Delete from "./commands/delete.js";
import Events from "./commands/events.js";
import Exec from "./commands/exec.js";
import Help from "./commands/help.js";
import Kill from "./commands/kill.js";
import List from "./commands/list.js";
import Logs from "./commands/logs.js";
import Prune from "./commands/prune.js";
import Start from "./commands/start.js";
import Stats from "./commands/stats.js";
import Status from "./commands/status.js";
import Stop from "./commands/stop.js";
import StreamOutput from "./commands/stream-output.js";
import Ui from "./commands/ui.js";
import Wait from "./commands/wait.js";

export { execute } from "@oclif/core";
export { commandNotFound } from "./unknown-command.js";

export const COMMANDS = {
  attach: Attach,
  clean: Clean,
  config: Config,
  "context:add": ContextAdd,
  "context:ls": ContextLs,
  "context:rm": ContextRm,
  "context:use": ContextUse,
  delete: Delete,
  events: Events,
  exec: Exec,
  help: Help,
  kill: Kill,
  list: List,
  logs: Logs,
  prune: Prune,
  start: Start,
  stats: Stats,
  status: Status,
  stop: Stop,
  "stream-output": StreamOutput,
  ui: Ui,
  wait: Wait,
};
