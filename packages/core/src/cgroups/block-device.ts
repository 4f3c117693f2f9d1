import { readFile, stat } from "node:fs/promises";

/**
 * The whole disk ("major:minor") backing the filesystem that holds `path`,
 * or undefined when no block device backs it (tmpfs, overlay, 9p).
 * IO limits apply to whole disks: a partition resolves to its parent disk.
 */
export async function wholeDiskOf(path: string): Promise<string | undefined> {
  const { dev } = await stat(path, { bigint: true });
  // glibc's dev_t encoding (gnu_dev_major / gnu_dev_minor).
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn & 0xffffffffn);
  if (major === 0n) return undefined;
  const sysfs = `/sys/dev/block/${major}:${minor}`;
  if (!(await exists(sysfs))) return undefined;
  if (!(await exists(`${sysfs}/partition`))) return `${major}:${minor}`;
  return (await readFile(`${sysfs}/../dev`, "utf8")).trim();
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
