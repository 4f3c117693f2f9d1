import { execFileSync } from "node:child_process";
import { join } from "node:path";

const REPO = new URL("../../", import.meta.url).pathname;
const BUF = join(REPO, "interop/node_modules/.bin/buf");

/**
 * Builds the descriptor set of `proto/` (with its imports) into `file`: what
 * the Python client loads its messages from and `buf curl` reads its schema
 * from, so both always speak the proto as it is in this tree.
 */
export function buildDescriptorSet(file: string): string {
  execFileSync(BUF, ["build", join(REPO, "proto"), "-o", file]);
  return file;
}

/** The methods of jobworker.v1.JobService in the descriptor set, by name (`buf curl --list-methods`). */
export function serviceMethods(descriptorSet: string): string[] {
  const listed = execFileSync(BUF, ["curl", "--schema", descriptorSet, "--list-methods"], { encoding: "utf8" });
  return listed
    .split("\n")
    .filter((line) => line.startsWith("jobworker.v1.JobService/"))
    .map((line) => line.slice("jobworker.v1.JobService/".length));
}

export { BUF };
