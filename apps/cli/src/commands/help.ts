import { Args, Command, loadHelpClass } from "@oclif/core";
import { CLI_FAILURE_EXIT } from "../cli-error.js";
import { unknownCommandLine } from "../unknown-command.js";

export default class Help extends Command {
  static override summary = "Show help for runjob, or for one command: runjob help start, runjob help context add.";
  static override strict = false;
  static override args = { command: Args.string({ description: "the command (and subcommand) to explain" }) };
  static override examples = [
    "<%= config.bin %> help",
    "<%= config.bin %> help logs",
    "<%= config.bin %> help context add",
  ];

  async run(): Promise<void> {
    const { argv } = await this.parse(Help);
    const words = argv.map(String);
    const id = words.join(":");
    if (words.length > 0 && !this.config.findCommand(id) && !this.config.findTopic(id)) {
      process.stderr.write(`${unknownCommandLine(id, this.config.commandIDs)}\n`);
      process.exit(CLI_FAILURE_EXIT);
    }
    const HelpClass = await loadHelpClass(this.config);
    await new HelpClass(this.config, this.config.pjson.oclif.helpOptions).showHelp(words);
  }
}
