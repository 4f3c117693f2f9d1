import { ensurePythonGrpc } from "./python-client.js";

/** vitest global set-up: the Python client's packages are there before any spec runs. */
export default function setup(): void {
  ensurePythonGrpc();
}
