import { ServerProcess } from "@jobworker/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runjob, runjobPath, shellEnv } from "./testing/cli-harness.js";
import { ensureTmux, TmuxSession } from "./testing/tmux.js";

const needsRoot = process.getuid?.() !== 0;
const noTmux = needsRoot ? undefined : ensureTmux();

// Only a missing root skips: where tmux cannot be installed, the tests fail and say why.
describe.skipIf(needsRoot)("runjob -it in a real terminal (tmux) against a real server (needs root)", () => {
  let server: ServerProcess;
  let tmux: TmuxSession;
  const runjobLine = (args: string) => `node ${runjobPath} ${args}`;

  beforeAll(async () => {
    if (noTmux) throw new Error(noTmux);
    server = await ServerProcess.start();
  });
  // Each test starts its own tmux server: a test that fails half-way must not leave its server behind.
  afterEach(async () => {
    await tmux?.dispose();
  });
  afterAll(async () => {
    if (!server) return; // tmux could not be installed: nothing was started
    try {
      await runjob(server, ["clean", "--all-owners"], { identity: "admin" });
      expect(await server.kill("SIGTERM")).toBe(0);
    } finally {
      await server.dispose();
    }
  });

  it("start -it gives a shell a terminal: it computes, has a tty of the window's size, survives Ctrl-C, detaches, is attached again, and its exit code is the CLI's", async () => {
    tmux = await TmuxSession.start(shellEnv(server), 91, 27);
    await tmux.waitFor(/outer\$ $/m);
    await tmux.type(runjobLine("start -it -e 'PS1=job$ ' -- /bin/sh"));
    await tmux.waitFor(/^job\$ /m);

    await tmux.type("echo $((6*7))");
    await tmux.waitFor(/^42\s*$/m);

    await tmux.type("tty");
    await tmux.waitFor(/^\/dev\/pts\/\d+\s*$/m);

    await tmux.type("stty size");
    await tmux.waitFor(/^27 91\s*$/m);
    await tmux.resize(103, 33);
    await tmux.type("stty size");
    await tmux.waitFor(/^33 103\s*$/m);

    // Ctrl-C reaches the job's foreground process, not the CLI: the sleep ends, the shell stays.
    // (The child prints once it holds the terminal: the shell hands it over in the child too.)
    await tmux.type("sh -c 'echo fg-$((5*5)); exec sleep 100'");
    await tmux.waitFor(/^fg-25\s*$/m);
    await tmux.send("C-c");
    await tmux.type("echo still-$((1+1))");
    await tmux.waitFor(/^still-2\s*$/m);

    // Ctrl-P Ctrl-Q: the CLI leaves, the job runs on, and says how to get back.
    await tmux.send("C-p");
    await tmux.send("C-q");
    const [, id] = await tmux.waitFor(/attach: .* attach ([0-9a-f-]{36})/);
    await tmux.waitFor(/outer\$ $/m);
    expect((await runjob(server, ["status", "--json", id ?? ""])).stdout.toString()).toMatch(
      /"state": "JOB_STATE_RUNNING"/,
    );

    // Other detach keys, as asked for: Ctrl-X then x.
    await tmux.type(runjobLine(`attach --detach-keys ctrl-x,x ${id}`));
    await tmux.waitFor(/attached to job .*; detach with ctrl-x,x/);
    await tmux.type("echo back-$((2+3))");
    await tmux.waitFor(/^back-5\s*$/m);
    await tmux.send("C-x");
    await tmux.send("x", { literal: true });
    await tmux.waitFor(/detached; job [0-9a-f-]{36} keeps running[\s\S]*outer\$ $/m);

    await tmux.type(runjobLine(`attach ${id}`));
    await tmux.type("echo again-$((3+4))");
    await tmux.waitFor(/^again-7\s*$/m);

    await tmux.type("exit 3");
    await tmux.waitFor(/outer\$ $/m);
    await tmux.type("echo cli-exit-$?");
    await tmux.waitFor(/^cli-exit-3\s*$/m);
    await tmux.dispose();
  });

  it("exec -it gives a shell in a running job a terminal of its own; its exit code is the CLI's", async () => {
    const id = (await runjob(server, ["start", "--", "sleep", "1000"])).stdout.toString().trim();
    tmux = await TmuxSession.start(shellEnv(server), 77, 21);
    await tmux.waitFor(/outer\$ $/m);
    await tmux.type(runjobLine(`exec -it -e 'PS1=exec$ ' ${id} -- /bin/sh`));
    await tmux.waitFor(/^exec\$ /m);
    await tmux.type("tty; stty size; ps -e -o comm= | grep -c sleep");
    await tmux.waitFor(/^\/dev\/pts\/\d+\s*\n21 77\s*\n1\s*$/m);
    await tmux.type("sh -c 'echo fg-$((6*6)); exec sleep 100'");
    await tmux.waitFor(/^fg-36\s*$/m);
    await tmux.send("C-c");
    await tmux.type("echo still-$((2*4))");
    await tmux.waitFor(/^still-8\s*$/m);
    await tmux.type("exit 4");
    await tmux.waitFor(/outer\$ $/m);
    await tmux.type("echo cli-exit-$?");
    await tmux.waitFor(/^cli-exit-4\s*$/m);
    // The job itself runs on.
    expect((await runjob(server, ["status", "--json", id])).stdout.toString()).toMatch(/"state": "JOB_STATE_RUNNING"/);
  });
});
