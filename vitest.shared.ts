import { defineConfig } from "vitest/config";

/** The vitest settings every package shares; each package's vitest.config.ts re-exports it. */
export default defineConfig({
  test: {
    include: ["src/**/*.spec.ts"],
    // Real processes and cgroups: files run one after another so CPU and IO measurements are not disturbed.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
