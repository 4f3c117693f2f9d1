import { Flags } from "@oclif/core";
import { JobCommand } from "../base-command.js";
import { CliError } from "../cli-error.js";
import { isLoopback } from "../ui/loopback.js";

export default class Ui extends JobCommand<typeof Ui> {
  static override summary = "Open a web page to see, start, follow, stop and type into your jobs.";
  static override description =
    `Starts a local web server on 127.0.0.1 and prints its URL, which carries a random token. The page talks to it over gRPC-Web, and it forwards each call to the jobworker server over mutual TLS with this context's credentials: the browser never holds your key. Only this machine can reach it, only with the token, and only under its own address (127.0.0.1 or localhost, with its port). Runs until Ctrl-C; with --json it prints {"url", "port"} first.`;
  static override examples = [
    "<%= config.bin %> ui",
    "<%= config.bin %> ui --port 8080 --no-open",
    '<%= config.bin %> ui -c prod --json   # prints {"url": …} and keeps serving',
  ];
  static override flags = {
    port: Flags.integer({ summary: "Port to listen on; default a free one.", min: 0, max: 65535, default: 0 }),
    listen: Flags.string({
      summary: "Loopback address to listen on (127.0.0.1 or another 127.x.y.z; nothing else is allowed).",
      default: "127.0.0.1",
    }),
    open: Flags.boolean({
      summary: "Open the page in a browser (--no-open: only print its URL).",
      default: true,
      allowNo: true,
    }),
  };

  async run(): Promise<void> {
    if (!isLoopback(this.flags.listen)) {
      throw new CliError(
        "JW_ERR_USAGE",
        `--listen ${this.flags.listen} is not a loopback address; runjob ui serves this machine only: use 127.0.0.1`,
      );
    }
    const client = await this.client();
    // Loaded when run: Node's http and http2 cannot be in the single executable's startup snapshot.
    const { startUiServer } = await import("../ui/ui-server.js");
    const server = await startUiServer({ client, host: this.flags.listen, port: this.flags.port });
    if (this.jsonEnabled()) {
      process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port })}\n`);
    } else {
      process.stdout.write(`runjob ui: ${server.url}\n(Ctrl-C to stop)\n`);
    }
    if (this.flags.open) await openBrowser(server.url);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await server.close();
  }
}

/** Opens `url` in the desktop's browser when there is one; without one the printed URL is enough. */
async function openBrowser(url: string): Promise<void> {
  const { spawn } = await import("node:child_process");
  const opener = process.platform === "darwin" ? "open" : "xdg-open";
  const child = spawn(opener, [url], { stdio: "ignore", detached: true });
  child.on("error", () => process.stderr.write(`runjob ui: could not start ${opener}; open the URL yourself\n`));
  child.unref();
}
