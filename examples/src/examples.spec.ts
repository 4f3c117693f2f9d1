import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { JobManager, type JobManagerOptions } from "@jobworker/core";
import { testUidRange } from "@jobworker/testkit/uid-range";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLES_DIR, installInto, PACKAGES, pack, REPO_ROOT, runNode, tarballFiles } from "./packed-install.js";

const needsRoot = process.getuid?.() !== 0;

describe.skipIf(needsRoot)(
  "the examples, run from packed tarballs installed outside the repository (needs root)",
  () => {
    let root: string;
    let appDir: string;
    const tarballs: Record<string, string> = {};
    /** The managers the examples opened, to clean up after them whatever happened. */
    const used: JobManagerOptions[] = [];

    beforeAll(async () => {
      root = await mkdtemp("/var/tmp/jobworker-packed-");
      for (const [name, dir] of Object.entries(PACKAGES)) tarballs[name] = await pack(dir, root);
      appDir = join(root, "app");
      await installInto(appDir, Object.values(tarballs));
    }, 180_000);

    afterAll(async () => {
      for (const options of used) {
        const manager = await JobManager.open(options, () => {});
        await manager.clean({ allOwners: true });
        await manager.close();
        await manager.removeCgroupParent();
      }
      await rm(root, { recursive: true, force: true });
    });

    /** Runs one example as a library user would, with a state dir, cgroup parent and uid range of its own. */
    async function runExample(name: string): Promise<string> {
      const uidRange = testUidRange();
      const options = {
        stateDir: join(root, `state-${name}`),
        cgroupParent: `jobworker-test-examples-${process.pid}-${name}`,
        uidRange,
      };
      used.push(options);
      const { stdout } = await runNode(appDir, [`${name}.ts`], {
        STATE_DIR: options.stateDir,
        CGROUP_PARENT: options.cgroupParent,
        UID_FIRST: String(uidRange.first),
      });
      return stdout;
    }

    it("each package's tarball holds its README, its code and, for the helper, the launcher as an executable", async () => {
      const core = await tarballFiles(tarballs["@jobworker/core"] ?? "");
      const helper = await tarballFiles(tarballs["@jobworker/helper"] ?? "");
      for (const files of [core, helper]) {
        expect(files.map((file) => file.split(" ")[1])).toEqual(
          expect.arrayContaining([
            "package/README.md",
            "package/package.json",
            "package/dist/index.js",
            "package/dist/index.d.ts",
          ]),
        );
      }
      expect(helper).toContainEqual(expect.stringMatching(/^-rwx.* package\/dist\/jobworker-launcher$/));
      expect(core.filter((file) => file.includes(".spec.") || file.includes("testing/"))).toEqual([]);
    });

    it("npm installs the two tarballs offline, and nothing else: the packages need no other dependency", async () => {
      expect(await readdir(join(appDir, "node_modules"))).toEqual(expect.arrayContaining(["@jobworker"]));
      expect((await readdir(join(appDir, "node_modules"))).filter((entry) => !entry.startsWith("."))).toEqual([
        "@jobworker",
      ]);
      expect(await readdir(join(appDir, "node_modules/@jobworker"))).toEqual(["core", "helper"]);
      const installed = JSON.parse(await readFile(join(appDir, "node_modules/@jobworker/core/package.json"), "utf8"));
      expect(installed.dependencies).toEqual({ "@jobworker/helper": installed.version });
    });

    it("the program resolves @jobworker/core to its own node_modules, not the repository's", async () => {
      const { stdout } = await runNode(appDir, [
        "--input-type=module",
        "-e",
        "console.log(import.meta.resolve('@jobworker/core'))",
      ]);
      expect(stdout.trim()).toBe(`file://${appDir}/node_modules/@jobworker/core/dist/index.js`);
      expect(stdout).not.toContain(REPO_ROOT);
    });

    it("every example in examples/library has a test here", async () => {
      expect((await readdir(EXAMPLES_DIR)).sort()).toEqual([
        "follow-after-restart.ts",
        "parallel-with-limits.ts",
        "run-and-stream.ts",
      ]);
    });

    it("run-and-stream prints the job's output as it comes, then how it ended", async () => {
      const stdout = await runExample("run-and-stream");
      expect(stdout).toMatch(
        /^hello from job-[0-9a-f]{8} as uid \d+\ntick 1\ntick 2\ntick 3\nexited, exit code 0, \d+ bytes of output\n$/,
      );
    });

    it("parallel-with-limits collects the results of ten jobs run at once under limits", async () => {
      const stdout = await runExample("parallel-with-limits");
      const expected = Array.from({ length: 10 }, (_, n) => `job ${n}: printed ${n * n}, exit code ${n % 3}\n`);
      expect(stdout).toBe(`${expected.join("")}10 jobs, 6 exited non-zero\n`);
    });

    it("follow-after-restart follows a re-adopted job from its offset: every line once, in order", async () => {
      const stdout = await runExample("follow-after-restart");
      expect(stdout).toMatch(/-- manager closed at offset \d+\n-- reopened: the job is running\n/);
      const lines = stdout.split("\n").filter((line) => line.startsWith("line "));
      expect(lines).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i + 1}`));
      expect(stdout).toMatch(/-- exited, exit code 0, 151 bytes\n$/);
    });
  },
);
