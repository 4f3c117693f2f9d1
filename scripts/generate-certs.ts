// Generates the development PKI into a directory (default: certs). Keeps an existing one
// unless --force is given, so a running server's certificates stay valid.
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PEER_UNIT, writeDevPki } from "@jobworker/dev-pki";

const force = process.argv.includes("--force");
const dir = process.argv.slice(2).find((arg) => !arg.startsWith("--")) ?? "certs";
if (!force && existsSync(join(dir, "ca.crt"))) {
  console.log(`dev PKI already in ${dir}/ (pnpm certs --force makes a new one)`);
  // A PKI from before fleets: its server certificate cannot act as a fleet peer.
  const server = join(dir, "server.crt");
  if (existsSync(server) && !new X509Certificate(readFileSync(server)).subject.includes(`OU=${PEER_UNIT}`)) {
    console.log(
      `note: ${server} is not a fleet peer certificate (OU=${PEER_UNIT}); for --queue-url, run pnpm certs --force`,
    );
  }
} else {
  const written = await writeDevPki(dir);
  console.log(`dev PKI written: ${written.join(", ")}`);
}
