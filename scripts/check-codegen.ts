// Fails when the committed generated code differs from what the proto generates.
import { execFileSync } from "node:child_process";

execFileSync("pnpm", ["--filter", "@jobworker/proto", "generate"], { stdio: "inherit" });
const changes = execFileSync("git", ["status", "--porcelain", "--", "packages/proto/src/gen"], { encoding: "utf8" });
if (changes.trim()) {
  console.error(`generated code is stale; run 'pnpm generate' and commit:\n${changes}`);
  process.exit(1);
}
console.log("generated code matches proto/");
