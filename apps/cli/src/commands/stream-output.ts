import { Flags } from "@oclif/core";
import Logs from "./logs.js";

/** The original tool's name for `logs --follow`. */
export default class StreamOutput extends Logs {
  static override summary = "Follow a job's output until it ends (same as 'logs --follow').";
  static override examples = ["<%= config.bin %> stream-output 3f2a9c"];
  static override flags = {
    ...Logs.flags,
    follow: Flags.boolean({
      char: "f",
      summary: "Keep streaming new output until the job ends.",
      allowNo: true,
      default: true,
    }),
  };
}
