// Generates the development PKI into the directory given as the only argument (default: certs).
import { writeDevPki } from "@jobworker/dev-pki";

const dir = process.argv[2] ?? "certs";
const written = await writeDevPki(dir);
console.log(`dev PKI written: ${written.join(", ")}`);
