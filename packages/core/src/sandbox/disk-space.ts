/**
 * A job's disk limit covers both places it can write: its writable space (one
 * tmpfs: work dir, /tmp, /run, /dev/shm), where the kernel answers ENOSPC, and
 * its output on the host's disk, which RLIMIT_FSIZE bounds and the manager ends
 * as `output_limit`.
 */

/** One inode per this many bytes of disk limit: 131,072 files at 1 GiB. */
const BYTES_PER_INODE = 8192;
const MIN_INODES = 1024;

/** Most files and directories the job's writable space may hold. */
export function inodesFor(diskBytes: number): number {
  return Math.max(MIN_INODES, Math.floor(diskBytes / BYTES_PER_INODE));
}

/** Most bytes of output the job may write: its disk limit, and never more than the server's output cap. */
export function outputLimitFor(diskBytes: number | undefined, outputCapBytes: number): number {
  return Math.min(diskBytes ?? outputCapBytes, outputCapBytes);
}

/**
 * Slack between the output's allocated blocks and its limit: filesystems
 * round allocations up to blocks and extents. Blocks allocated past the end of
 * the file without growing it (fallocate with KEEP_SIZE) are refused by the
 * job's seccomp filter; this count catches anything else that gets past.
 */
export const ALLOCATION_SLACK_BYTES = 1024 * 1024;
