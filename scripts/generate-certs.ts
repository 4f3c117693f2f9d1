// Generates the development PKI into a directory (default: certs). Keeps an existing one
// unless --force is given, so a running server's certificates stay valid.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { writeDevPki } from "@jobworker/dev-pki";

const force = process.argv.includes("--force");
const dir = process.argv.slice(2).find((arg) => !arg.startsWith("--")) ?? "certs";
if (!force && existsSync(join(dir, "ca.crt"))) {
  console.log(`dev PKI already in ${dir}/ (pnpm certs --force makes a new one)`);
} else {
  const written = await writeDevPki(dir);
  console.log(`dev PKI written: ${written.join(", ")}`);
}
