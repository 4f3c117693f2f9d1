import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../vitest.shared.ts";

// The shared settings, plus a set-up that installs the Python client's Debian packages when missing.
export default mergeConfig(shared, defineConfig({ test: { globalSetup: ["src/python-setup.ts"] } }));
