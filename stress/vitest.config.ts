import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.stress.ts"],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
