import { mkdtemp, rm } from "node:fs/promises";
import { JobState } from "@jobworker/proto";
import { type JobClient, ServerProcess } from "@jobworker/testkit";
import { writeInJob } from "@jobworker/testkit/host";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runjob } from "./testing/cli-harness.js";
import { CHROMIUM, ensureChromium, UiProcess } from "./testing/ui-process.js";

/** The page's document, as the functions passed to page.waitForFunction see it (they run in the browser). */
interface PageElement {
  textContent: string | null;
  getAttribute(name: string): string | null;
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
};

const needsRoot = process.getuid?.() !== 0;
const noChromium = needsRoot ? undefined : ensureChromium();

/** Generous: the machine may be busy with other tests, and a browser is slow to start. */
const WAIT = { timeout: 30_000 };

/** The text of the terminal's rows as the page shows them (xterm's DOM renderer), one string a row. */
function terminalRows(page: Page): Promise<string[]> {
  return page.$$eval(".terminal .xterm-rows > div", (rows) => rows.map((row) => row.textContent ?? ""));
}

/** Waits until some row of the page's terminal, trimmed, satisfies `test` (a row's exact text, or a part of it). */
async function terminalShows(page: Page, text: string, exact = false): Promise<void> {
  await page.waitForFunction(
    ({ text, exact }) =>
      [...document.querySelectorAll(".terminal .xterm-rows > div")].some((row) =>
        exact ? row.textContent?.trim() === text : row.textContent?.includes(text),
      ),
    { text, exact },
    WAIT,
  );
}

// Only a missing root skips: where Chromium cannot be installed, the tests fail and say why.
describe.skipIf(needsRoot)("runjob ui in a real browser (needs root: the server runs jobs; needs Chromium)", () => {
  let server: ServerProcess;
  let ui: UiProcess;
  let browser: Browser;
  let page: Page;
  let client: JobClient;

  beforeAll(async () => {
    if (noChromium) throw new Error(noChromium);
    server = await ServerProcess.start();
    ui = await UiProcess.start(server);
    browser = await chromium.launch({ executablePath: CHROMIUM });
    client = await server.client("alice");
  });

  afterAll(async () => {
    await browser?.close();
    await ui?.stop();
    await server?.dispose();
  });

  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });

  afterEach(async () => {
    await page.close();
  });

  it("the jobs table shows a job the CLI starts, its usage while it runs, the filters, and its end", async () => {
    await page.goto(ui.url);
    await page.getByRole("heading", { name: "Jobs" }).waitFor(WAIT);
    // Started by the CLI, a client of its own.
    const started = await runjob(server, [
      "start",
      "--name",
      "from-elsewhere",
      "--label",
      "team=web",
      "--",
      "/bin/sh",
      "-c",
      "while [ ! -e /work/go ]; do sleep 0.05; done",
    ]);
    expect(started.code, started.stderr).toBe(0);
    const id = started.stdout.toString().trim();
    const row = page.locator(`tr[data-job="${id}"]`);
    await page.locator(`tr[data-job="${id}"][data-state="running"]`).waitFor(WAIT);
    expect(await row.locator("a").textContent()).toBe("from-elsewhere");
    expect(await row.locator("td.labels").textContent()).toBe("team=web");
    // WatchUsage fills in CPU and memory of running jobs.
    await page.waitForFunction(
      (id) =>
        /\d+(\.\d)? (B|KiB|MiB)/.test(document.querySelector(`tr[data-job="${id}"] td.memory`)?.textContent ?? ""),
      id,
      WAIT,
    );
    // The filters: another label hides it, its own shows it; search by name.
    await page.fill("input[name=selector]", "team=other");
    await page.click("text=Apply");
    await page.locator("text=No jobs yet.").waitFor(WAIT);
    await page.fill("input[name=selector]", "team=web");
    await page.click("text=Apply");
    await row.waitFor(WAIT);
    await page.fill("input[name=search]", "nothing-like-it");
    await row.waitFor({ state: "detached", ...WAIT });
    await page.fill("input[name=search]", "elsewhere");
    await row.waitFor(WAIT);

    // The state filter: while it runs, "ended" hides it.
    await page.selectOption("select[name=state]", "4");
    await row.waitFor({ state: "detached", ...WAIT });

    await writeInJob(server.cgroupParent, id, "/work/go", "");
    await page.locator(`tr[data-job="${id}"][data-state="ended"]`).waitFor(WAIT);
    expect(await row.locator("td.state").textContent()).toContain("exit 0");
  });

  it("the job page shows the output with its colours and follows it live", async () => {
    const { job } = await client.startJob({
      command: "/bin/sh",
      args: ["-c", 'printf "\\033[31mRED\\033[0m plain\\n"; read line; echo "got $line"'],
      stdin: true,
    });
    const id = job!.id;
    await page.goto(`${ui.url}#/jobs/${id}`);
    await terminalShows(page, "RED plain");
    // xterm draws red text (SGR 31) with its class for colour 1.
    expect(await page.locator(".terminal .xterm-rows span.xterm-fg-1").first().textContent()).toBe("RED");
    await client.writeJobInput({ id, data: new TextEncoder().encode("live-line\n"), close: true });
    await terminalShows(page, "got live-line");
    await page.locator('[data-testid="job-state"]', { hasText: "ended" }).waitFor(WAIT);

    // The raw output, escape codes and all, as a file.
    const [download] = await Promise.all([page.waitForEvent("download", WAIT), page.click("text=Download output")]);
    const { readFile } = await import("node:fs/promises");
    expect((await readFile((await download.path())!)).toString()).toBe("\x1b[31mRED\x1b[0m plain\ngot live-line\n");

    // From the tail: the last lines only (here both of them, in a fresh terminal).
    await page.selectOption("select[name=from]", "tail");
    // A new terminal replaces the old one (rendered on the next frame): wait for it, then for its lines.
    await page.locator('.terminal[data-start="tail"] .xterm-rows').waitFor(WAIT);
    await terminalShows(page, "got live-line");
    expect((await terminalRows(page)).map((row) => row.trim()).filter(Boolean)).toEqual(["RED plain", "got live-line"]);
  });

  it("typing into a terminal job reaches it, its size follows the page; stop and delete ask first", async () => {
    const { job } = await client.startJob({
      command: "/bin/sh",
      stdin: true,
      tty: true,
      terminalSize: { rows: 30, columns: 100 },
    });
    const id = job!.id;
    await page.goto(`${ui.url}#/jobs/${id}`);
    await page.locator(".terminal .xterm-rows").waitFor(WAIT);
    await page.click(".terminal");
    await page.keyboard.type("echo $((6*7))\n");
    await terminalShows(page, "42", true);
    // The job's terminal has the page's size, and follows the window (ResizeJobTerminal).
    const size = async () => page.$eval(".terminal .xterm-rows", (rows) => rows.children.length);
    await page.keyboard.type("stty size\n");
    await terminalShows(page, `${await size()} `);
    await page.setViewportSize({ width: 700, height: 600 });
    await page.keyboard.type("stty size\n");
    const rows = await size();
    await page.waitForFunction(
      (rows) =>
        [...document.querySelectorAll(".terminal .xterm-rows > div")].some((row) =>
          new RegExp(`^${rows} \\d+$`).test(row.textContent?.trim() ?? ""),
        ),
      rows,
      WAIT,
    );
    const sizes = (await terminalRows(page)).map((row) => row.trim()).filter((row) => /^\d+ \d+$/.test(row));
    // Two answers: the first at 1280 wide, the last at 700, in fewer columns.
    expect(sizes).toHaveLength(2);
    const columns = sizes.map((answer) => Number(answer.split(" ")[1]));
    expect(columns[1]).toBeLessThan(columns[0]!);
    expect(Number(sizes[1]!.split(" ")[0])).toBe(rows);

    // Dismissed: nothing happens. Accepted: the job is stopped.
    const asked: string[] = [];
    page.once("dialog", (dialog) => {
      asked.push(dialog.message());
      void dialog.dismiss();
    });
    await page.click("button:has-text('Stop')");
    expect(asked).toEqual([`Stop job ${id}?`]);
    expect((await client.getJob({ id })).job?.state).toBe(JobState.RUNNING);
    page.once("dialog", (dialog) => {
      asked.push(dialog.message());
      void dialog.accept();
    });
    await page.click("button:has-text('Stop')");
    await page.locator('[data-testid="job-state"]', { hasText: "ended" }).waitFor(WAIT);
    expect(asked).toHaveLength(2);
    expect((await client.getJob({ id })).job?.state).toBe(JobState.ENDED);

    // Delete, accepted: the job is gone and the page goes back to the list.
    page.once("dialog", (dialog) => void dialog.accept());
    await page.click("button:has-text('Delete')");
    await page.getByRole("heading", { name: "Jobs" }).waitFor(WAIT);
    await expect(client.getJob({ id })).rejects.toThrow(/not found/i);
  });

  it("the start form starts a job and opens its page", async () => {
    await page.goto(`${ui.url}#/start`);
    await page.fill("input[name=command]", "/bin/sh");
    await page.fill("textarea[name=args]", "-c\necho started by the form: $GREETING");
    await page.fill("input[name=name]", "from-the-form");
    await page.fill("input[name=labels]", "via=form");
    await page.fill("textarea[name=env]", "GREETING=hello");
    await page.fill("input[name=memory]", "64M");
    await page.click("button:has-text('Start')");
    await page.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/, WAIT);
    const id = /#\/jobs\/([0-9a-f-]{36})$/.exec(page.url())![1]!;
    await terminalShows(page, "started by the form: hello");
    const { job } = await client.getJob({ id });
    expect(job?.name).toBe("from-the-form");
    expect(job?.labels).toEqual({ via: "form" });
    expect(job?.limits?.memoryBytes).toBe(64n * 2n ** 20n);
  });

  it("the start form starts seq 1 100000, and the job page shows all of it to 100000", async () => {
    await page.goto(`${ui.url}#/start`);
    await page.fill("input[name=command]", "seq");
    await page.fill("textarea[name=args]", "1\n100000");
    await page.click("button:has-text('Start')");
    await page.waitForURL(/#\/jobs\/[0-9a-f-]{36}$/, WAIT);
    await page.locator('[data-testid="job-state"]', { hasText: "ended" }).waitFor(WAIT);
    await terminalShows(page, "100000", true);
    const rows = (await terminalRows(page)).map((row) => row.trim()).filter(Boolean);
    expect(rows.at(-1)).toBe("100000");
    expect(rows.at(-2)).toBe("99999");
  });

  it("a sleep 600 job is stopped from its page", async () => {
    const started = await runjob(server, ["start", "--", "sleep", "600"]);
    const id = started.stdout.toString().trim();
    await page.goto(`${ui.url}#/jobs/${id}`);
    await page.locator('[data-testid="job-state"]', { hasText: "running" }).waitFor(WAIT);
    page.once("dialog", (dialog) => void dialog.accept());
    await page.click("button:has-text('Stop')");
    await page.locator('[data-testid="job-state"]', { hasText: "ended" }).waitFor(WAIT);
    expect(await page.locator(".outcome").textContent()).toBe("stopped");
  });

  it("an admin's jobs page has an Owner column: whose each job is", async () => {
    const admin = await UiProcess.start(server, { identity: "admin" });
    try {
      const bobs = await runjob(server, ["start", "--name", "bobs-job", "--", "/bin/true"], { identity: "bob" });
      const bobsId = bobs.stdout.toString().trim();
      await client.startJob({ command: "/bin/true", name: "alices-job" });
      await page.goto(admin.url);
      const row = page.locator(`tr[data-job="${bobsId}"]`);
      await row.waitFor(WAIT);
      await page.locator("th.owner").waitFor(WAIT);
      expect(await row.locator("td.owner").textContent()).toBe("bob");
      // alice's page has one owner: no column.
      await page.goto(ui.url);
      await page.locator("tr[data-job]").first().waitFor(WAIT);
      expect(await page.locator(`tr[data-job="${bobsId}"]`).count()).toBe(0);
      expect(await page.locator("th.owner").count()).toBe(0);
    } finally {
      await admin.stop();
    }
  });

  it("an API error shows as a readable message", async () => {
    await page.goto(`${ui.url}#/start`);
    await page.fill("input[name=command]", "/bin/true");
    await page.fill("input[name=name]", "from-the-form"); // taken by the test before
    await page.click("button:has-text('Start')");
    const alert = page.getByRole("alert");
    await alert.waitFor(WAIT);
    const message = (await alert.textContent()) ?? "";
    expect(message).toContain("from-the-form");
    expect(message).toContain("[AlreadyExists]");

    await page.goto(`${ui.url}#/jobs/00000000-0000-4000-8000-000000000000`);
    await page.getByRole("alert").filter({ hasText: "[NotFound]" }).waitFor(WAIT);

    // A wrong token (in a browser without the cookie the right one set): the page itself is
    // refused, with a sentence saying what to do.
    const stranger = await browser.newContext();
    try {
      const elsewhere = await stranger.newPage();
      const refused = await elsewhere.goto(ui.url.replace(/token=.*/, "token=not-the-token"));
      expect(refused?.status()).toBe(403);
      expect(await elsewhere.textContent("body")).toContain("not the token");
    } finally {
      await stranger.close();
    }
  });

  it("after a server restart mid-follow, the output goes on without a byte lost or repeated", async () => {
    const { job } = await client.startJob({
      command: "/bin/sh",
      args: ["-c", "echo before-restart; while [ ! -e /work/go ]; do sleep 0.05; done; echo after-restart"],
    });
    const id = job!.id;
    await page.goto(`${ui.url}#/jobs/${id}`);
    await terminalShows(page, "before-restart");
    // A second tab on the jobs list: its WatchJobs must come back too.
    const list = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await list.goto(ui.url);
    await list.locator(`tr[data-job="${id}"][data-state="running"]`).waitFor(WAIT);
    await server.kill("SIGKILL");
    try {
      // The page says it lost the server, and keeps trying.
      await page.getByRole("alert").filter({ hasText: "retrying" }).waitFor(WAIT);
    } finally {
      await server.restart();
    }
    client = await server.client("alice");
    expect((await client.getJob({ id })).job?.state).toBe(JobState.RUNNING);
    await writeInJob(server.cgroupParent, id, "/work/go", "");
    await terminalShows(page, "after-restart");
    const rows = (await terminalRows(page)).map((row) => row.trim()).filter(Boolean);
    expect(rows).toEqual(["before-restart", "after-restart"]);
    await page.getByRole("alert").waitFor({ state: "detached", ...WAIT });
    // The list shows the job's end and a job started after the restart.
    const { job: later } = await client.startJob({ command: "/bin/true", name: "after-the-restart" });
    await list.locator(`tr[data-job="${id}"][data-state="ended"]`).waitFor(WAIT);
    await list.locator(`tr[data-job="${later!.id}"]`).waitFor(WAIT);
    expect(await list.locator(`tr[data-job="${id}"]`).count()).toBe(1);
    await list.close();
  });

  // The README's pictures: RUNJOB_UI_SCREENSHOTS=docs/images keeps them; otherwise they go to a temp dir.
  it("the jobs page and a job page render wide and narrow, with usage and charts (the README's screenshots)", async () => {
    const dir = process.env.RUNJOB_UI_SCREENSHOTS ?? (await mkdtemp("/var/tmp/jobworker-test-shots-"));
    try {
      await client.cleanJobs({});
      const admin = await server.client("admin");
      await admin.cleanJobs({ allOwners: true });
      await client.startJob({ command: "/bin/echo", args: ["hello"], name: "hello", labels: { team: "docs" } });
      await client.startJob({
        command: "/bin/sh",
        args: ["-c", "exit 3"],
        name: "failing",
        labels: { team: "docs" },
      });
      await client.startJob({
        command: "/bin/sh",
        args: ["-c", "while :; do :; done"],
        name: "cpu-burner",
        labels: { team: "infra" },
        limits: { cpuMillicores: 500, memoryBytes: 256n * 2n ** 20n },
      });
      const { job } = await client.startJob({
        command: "/bin/sh",
        args: [
          "-c",
          'i=1; while [ $i -le 12 ]; do printf "\\033[32m✔\\033[0m step %d \\033[2m(%d ms)\\033[0m\\n" $i $((i*37)); i=$((i+1)); done; printf "\\033[1;33mbuilding…\\033[0m\\n"; exec sh -c "while :; do head -c 30000000 /dev/zero | md5sum >/dev/null; sleep 0.3; done"',
        ],
        name: "build",
        labels: { team: "infra", tier: "ci" },
        limits: { cpuMillicores: 1000, memoryBytes: 512n * 2n ** 20n },
      });
      const id = job!.id;
      for (const [width, height] of [
        [1280, 800],
        [390, 844],
      ] as const) {
        const shot = await browser.newPage({ viewport: { width, height } });
        await shot.goto(ui.url);
        await shot.locator("tr[data-job]").nth(3).waitFor(WAIT);
        await shot.waitForFunction(() => document.querySelectorAll("td.num:not(:empty)").length >= 4, undefined, WAIT);
        expect(pngSize(await shot.screenshot({ path: `${dir}/ui-jobs-${width}.png` }))).toEqual([width, height]);
        await shot.goto(`${ui.url}#/jobs/${id}`);
        await terminalShows(shot, "building");
        // Enough samples for the charts to show a line.
        await shot.waitForFunction(
          () => (document.querySelector("svg.spark polyline")?.getAttribute("points") ?? "").split(" ").length >= 8,
          undefined,
          { timeout: 60_000 },
        );
        expect(pngSize(await shot.screenshot({ path: `${dir}/ui-job-${width}.png` }))).toEqual([width, height]);
        await shot.close();
      }
      await client.cleanJobs({});
    } finally {
      if (!process.env.RUNJOB_UI_SCREENSHOTS) await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

/** A PNG's width and height, from its IHDR chunk. */
function pngSize(png: Buffer): [number, number] {
  return [png.readUInt32BE(16), png.readUInt32BE(20)];
}
