// runjob as one module: every command and what they import, bundled by
// bundle.mjs into dist/runjob.js so start-up reads one file instead of resolving
// and compiling hundreds. oclif finds the commands through COMMANDS ("explicit"
// strategy in package.json).
import Attach from "./commands/attach.js";
import Clean from "./commands/clean.js";
import Config from "./commands/config.js";
import Delete from "./commands/delete.js";
import Exec from "./commands/exec.js";
import Kill from "./commands/kill.js";
import List from "./commands/list.js";
import Logs from "./commands/logs.js";
import Start from "./commands/start.js";
import Status from "./commands/status.js";
import Stop from "./commands/stop.js";
import StreamOutput from "./commands/stream-output.js";
import Wait from "./commands/wait.js";

export { execute } from "@oclif/core";

export const COMMANDS = {
  attach: Attach,
  clean: Clean,
  config: Config,
  delete: Delete,
  exec: Exec,
  kill: Kill,
  list: List,
  logs: Logs,
  start: Start,
  status: Status,
  stop: Stop,
  "stream-output": StreamOutput,
  wait: Wait,
};
