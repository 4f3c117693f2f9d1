// Boots Debian's kernel under qemu with a pure cgroup v2 hierarchy and runs the
// isolation and lifecycle tests there, on the host's tree shared over 9p, with
// a virtio-blk ext4 disk at /mnt for the tests' state dirs, so io.max has a real block device.
//
// Needs root; installs qemu-system-x86, linux-image-amd64 and busybox-static if missing.
import { execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, join, resolve } from "node:path";

const REPO = resolve(import.meta.dirname, "..");
const TESTS =
  process.argv.slice(2).join(" ") ||
  "src/isolation.spec.ts src/sandbox.spec.ts src/job-manager.spec.ts src/robustness.spec.ts src/usage/live-usage.spec.ts src/interactive.spec.ts";
const MODULES = ["virtio_pci", "9pnet_virtio", "9p", "virtio_blk", "crc32c_generic", "ext4"];

ensurePackages();
const kernelVersion = readdirSync("/lib/modules")
  .filter((v) => v.endsWith("-amd64"))
  .sort()
  .pop();
if (!kernelVersion || !existsSync(`/boot/vmlinuz-${kernelVersion}`)) throw new Error("no Debian amd64 kernel in /boot");
const work = mkdtempSync("/var/tmp/cgroup-v2-vm-");
try {
  const initramfs = buildInitramfs(work, kernelVersion);
  const disk = join(work, "disk.img");
  execFileSync("truncate", ["-s", "2G", disk]);
  execFileSync("mkfs.ext4", ["-q", "-F", disk]);
  const code = await boot(`/boot/vmlinuz-${kernelVersion}`, initramfs, disk);
  process.exitCode = code;
} finally {
  rmSync(work, { recursive: true, force: true });
}

function ensurePackages(): void {
  const missing = [
    ["qemu-system-x86_64", "qemu-system-x86"],
    ["busybox", "busybox-static"],
  ]
    .filter(([command]) => !commandExists(command ?? ""))
    .map(([, pkg]) => pkg ?? "");
  if (!readdirSync("/boot").some((file) => file.startsWith("vmlinuz-") && file.endsWith("-amd64")))
    missing.push("linux-image-amd64");
  if (missing.length === 0) return;
  console.log(`installing ${missing.join(", ")}`);
  execFileSync("apt-get", ["update", "-q"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "-q", ...missing], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

function commandExists(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A busybox initramfs with the modules (dependencies first), the init script, and what to run. */
function buildInitramfs(dir: string, kernel: string): string {
  const root = join(dir, "root");
  for (const sub of ["bin", "proc", "sys", "dev", "host", "modules"]) mkdirSync(join(root, sub), { recursive: true });
  copyFileSync(
    execFileSync("sh", ["-c", "command -v busybox"], { encoding: "utf8" }).trim(),
    join(root, "bin", "busybox"),
  );
  copyFileSync(join(REPO, "scripts", "cgroup-v2-vm", "init.sh"), join(root, "init"));
  chmodSync(join(root, "init"), 0o755);
  const order = moduleLoadOrder(kernel, MODULES);
  for (const module of order)
    copyFileSync(join("/lib/modules", kernel, module), join(root, "modules", basename(module)));
  writeFileSync(join(root, "modules.order"), order.map((m) => basename(m)).join("\n"));
  writeFileSync(join(root, "repo"), join(REPO, "packages", "core"));
  writeFileSync(
    join(root, "command"),
    `${join(REPO, "node_modules", ".bin", "node")} ${join(REPO, "node_modules", "vitest", "vitest.mjs")} run ${TESTS}`,
  );
  const image = join(dir, "initramfs.gz");
  execFileSync("sh", ["-c", `cd '${root}' && find . | cpio -o -H newc --quiet | gzip -1 > '${image}'`]);
  return image;
}

/** Module paths in load order: each one's dependencies (from modules.dep) before it. */
function moduleLoadOrder(kernel: string, names: string[]): string[] {
  const deps = new Map<string, string[]>();
  for (const line of readFileSync(join("/lib/modules", kernel, "modules.dep"), "utf8").split("\n")) {
    const [module, rest] = line.split(":");
    if (module) deps.set(module, (rest ?? "").trim().split(/\s+/).filter(Boolean));
  }
  const byName = (name: string) =>
    [...deps.keys()].find(
      (path) =>
        basename(path)
          .replace(/\.ko.*$/, "")
          .replaceAll("-", "_") === name,
    );
  const order: string[] = [];
  const visit = (path: string) => {
    if (order.includes(path)) return;
    // modules.dep lists the full closure, nearest first: load the farthest first.
    for (const dep of [...(deps.get(path) ?? [])].reverse()) visit(dep);
    order.push(path);
  };
  for (const name of names) {
    const path = byName(name);
    if (!path) throw new Error(`kernel ${kernel} has no module ${name}`);
    visit(path);
  }
  return order;
}

function boot(kernel: string, initramfs: string, disk: string): Promise<number> {
  const args = [
    "-machine",
    "q35",
    "-accel",
    "tcg,thread=multi",
    "-cpu",
    "max",
    "-smp",
    "2",
    "-m",
    "4096",
    "-nographic",
    "-no-reboot",
    "-kernel",
    kernel,
    "-initrd",
    initramfs,
    "-append",
    "console=ttyS0 panic=-1 quiet rdinit=/init",
    "-fsdev",
    "local,id=host,path=/,security_model=passthrough,multidevs=remap",
    "-device",
    "virtio-9p-pci,fsdev=host,mount_tag=host",
    "-drive",
    `file=${disk},if=virtio,format=raw,cache=none`,
  ];
  console.log(`booting ${basename(kernel)} under qemu (software emulation): ${TESTS}`);
  const qemu = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "pipe", "inherit"] });
  let result = -1;
  let tail = "";
  qemu.stdout.on("data", (data: Buffer) => {
    process.stdout.write(data);
    tail = (tail + data.toString()).slice(-200);
    const match = /VM-RESULT rc=(\d+)/.exec(tail);
    if (match) result = Number(match[1]);
  });
  return new Promise((resolveExit) => qemu.on("exit", () => resolveExit(result === -1 ? 1 : result)));
}
