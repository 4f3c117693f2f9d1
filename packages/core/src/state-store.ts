import { execFile } from "node:child_process";
import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { chmod, mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { JobError } from "./errors.js";
import type { Job } from "./job.js";
import { JOB_STATES } from "./job-state.js";

const RECORD_FILE = "record.json";
/**
 * A record is written in place, padded with spaces to this size (one page), as
 * long as it fits: see saveSync. Larger records are replaced through a temporary file.
 */
const RECORD_BYTES = 4096;
/** The page every in-place save is composed in: saves are synchronous, so one serves them all. */
const recordPage = Buffer.alloc(RECORD_BYTES);
/** Record saves by this process so far: names each save's temporary file. */
let saves = 0;
const ARGS_FILE = "args.json";
/**
 * Job folders `discard` removes per turn of the event loop. Each is a handful
 * of synchronous calls (tens of microseconds), so a sweep that expires
 * thousands of jobs at once holds the loop for a moment per turn, not seconds.
 */
const DISCARDS_PER_TURN = 16;

/** A job's arguments longer than this live in their own file, not in the record held in memory. */
export const INLINE_ARGS_BYTES = 4096;

/**
 * A record as the manager holds and stores it: the job, and, when its
 * arguments are long, their size (they are in args.json, and `args` is empty).
 * A user may keep many jobs with up to 1 MiB of arguments each: held in
 * memory, they would bound nothing.
 */
export interface StoredJob extends Job {
  argsFile?: { bytes: number };
}

/**
 * The state directory: one folder per job under jobs/ (record, output, exit
 * record, and while the job runs its launcher's FIFO and socket). A job's work
 * dir is not here: it lives in the job's own memory-backed writable space,
 * which ends with the job.
 * Records are written whole: in place, one page at a time, or, when larger
 * than a page, through a temporary file and a rename.
 *
 * The per-job files are created and written synchronously: each is a few
 * hundred bytes on a local disk, which costs microseconds inline and far more
 * as a chain of thread-pool round trips on every job start and end. Writing
 * inline also keeps a job's record writes in call order by construction.
 */
export class StateStore {
  /** Jobs whose record is larger than a page: saved through a temporary file and a rename. */
  private readonly largeRecords = new Set<string>();
  /** Folders `discard` is yet to remove, in order, each with what its caller waits on. */
  private readonly discards: { id: string; settle: (error?: unknown) => void }[] = [];

  private constructor(readonly root: string) {}

  /** Creates (or checks) the state directory, owned by us and mode 0700. */
  static async open(stateDir: string): Promise<StateStore> {
    const root = resolve(stateDir);
    if (root === "/tmp" || root.startsWith("/tmp/")) {
      throw new Error(`state dir ${root} must not be under /tmp: every job gets its own /tmp, which hides it`);
    }
    await mkdir(join(root, "jobs"), { recursive: true, mode: 0o700 });
    await chmod(root, 0o700);
    const info = await stat(root);
    if (process.getuid && info.uid !== process.getuid()) {
      throw new Error(`state dir ${root} is owned by uid ${info.uid}, not by this process`);
    }
    await spreadJobDirs(join(root, "jobs"));
    return new StateStore(root);
  }

  jobDir(id: string): string {
    return join(this.root, "jobs", id);
  }

  logPath(id: string): string {
    return join(this.jobDir(id), "output.log");
  }

  /** The job's output time index (output/time-index.ts). */
  timesPath(id: string): string {
    return join(this.jobDir(id), "output.times");
  }

  /** Creates a job's folder and its empty output. */
  async createJobDir(id: string): Promise<void> {
    try {
      mkdirSync(this.jobDir(id), { mode: 0o700 });
      writeFileSync(this.logPath(id), "", { mode: 0o600 });
    } catch (error) {
      throw this.full(error);
    }
  }

  /** Persists a job's record, replacing the previous one atomically. */
  async save(job: StoredJob): Promise<void> {
    this.saveSync(job);
  }

  /** Writes a job's long arguments to their own file, once, before its record says they are there. */
  saveArgs(id: string, args: readonly string[]): void {
    const path = join(this.jobDir(id), ARGS_FILE);
    try {
      writeFileSync(`${path}.tmp`, JSON.stringify(args), { mode: 0o600 });
      renameSync(`${path}.tmp`, path);
    } catch (error) {
      rmSync(`${path}.tmp`, { force: true });
      throw this.full(error);
    }
  }

  /** A job's long arguments, read back; undefined when they cannot be read. */
  loadArgs(id: string): string[] | undefined {
    try {
      const args: unknown = JSON.parse(readFileSync(join(this.jobDir(id), ARGS_FILE), "utf8"));
      return Array.isArray(args) && args.every((arg) => typeof arg === "string") ? args : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * `save`, for callers that must not wait: a few hundred bytes, written inline.
   *
   * A record that fits a page is written over the previous one in place, as one
   * page: a job's start and end then create one file, not one per save. On
   * ext4 without a journal every file created scans past the inodes deleted in
   * the last minutes, and that scan was most of the server's CPU per job.
   * The record keeps its page padded with spaces, so it never grows (a full
   * disk cannot fail the save) and no write of it is ever shorter than a page:
   * a process killed mid-save leaves the old record or the new one, never half.
   */
  saveSync(job: StoredJob): void {
    const text = `${JSON.stringify(job)}\n`;
    const path = join(this.jobDir(job.id), RECORD_FILE);
    if (this.largeRecords.has(job.id) || Buffer.byteLength(text) > RECORD_BYTES) {
      this.replaceRecord(job.id, path, text);
      return;
    }
    recordPage.fill(" ");
    recordPage.write(text);
    let fd: number | undefined;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_CREAT, 0o600);
      writeSync(fd, recordPage, 0, RECORD_BYTES, 0);
    } catch (error) {
      throw this.full(error);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** Replaces a record larger than a page atomically: a temporary file, then a rename. */
  private replaceRecord(id: string, path: string, text: string): void {
    // Unique without randomness: one manager per state dir (host-claim.ts), and its saves are sequential.
    const tmp = `${path}.${process.pid}.${++saves}.tmp`;
    try {
      writeFileSync(tmp, text, { mode: 0o600 });
      renameSync(tmp, path);
      // Once larger than a page, always replaced: an in-place page would leave the larger one's tail.
      this.largeRecords.add(id);
    } catch (error) {
      rmSync(tmp, { force: true });
      throw this.full(error);
    }
  }

  /**
   * Loads every job record. A folder without a record is what a crash between
   * creating it and saving the first record leaves: it is removed. A folder
   * whose record is unreadable or malformed is left for the operator, skipped
   * and reported: it never stops the start-up.
   */
  async loadAll(onBadRecord: (id: string, error: unknown) => void): Promise<StoredJob[]> {
    const jobs: StoredJob[] = [];
    for (const id of await readdir(join(this.root, "jobs"))) {
      try {
        const text = await readFile(join(this.jobDir(id), RECORD_FILE), "utf8");
        // Empty: created, and the process gone before its first page was written (saveSync).
        if (text.trim() === "") throw Object.assign(new Error("the record was never written"), { code: "ENOENT" });
        const record: unknown = JSON.parse(text);
        if (!isJobRecord(record, id)) throw new Error("the record is not a job record");
        if (Buffer.byteLength(text) > RECORD_BYTES) this.largeRecords.add(id);
        jobs.push(record);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") await this.remove(id);
        onBadRecord(id, error);
      }
    }
    return jobs.sort((a, b) => a.createdAt - b.createdAt);
  }

  /** A full filesystem is the operator's to fix, not a bug: say so, as resource_exhausted. */
  private full(error: unknown): unknown {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOSPC" && code !== "EDQUOT") return error;
    return new JobError("resource_exhausted", `the state directory ${this.root} is full: delete jobs or free space`, {
      cause: error,
    });
  }

  /** Bytes in a job's output so far; undefined when it cannot be read. */
  outputSize(id: string): number | undefined {
    try {
      return statSync(this.logPath(id)).size;
    } catch {
      return undefined;
    }
  }

  /**
   * Removes a job's folder and output. The launcher makes the output
   * append-only while the job runs and clears that at its end; a launcher that
   * died first leaves it set, and the file cannot be unlinked until it is cleared.
   */
  async remove(id: string): Promise<void> {
    this.largeRecords.delete(id);
    if (removeFlatDir(this.jobDir(id))) return;
    try {
      await rm(this.jobDir(id), { recursive: true, force: true });
    } catch (error) {
      // Unlinking an append-only file is EPERM; rm then takes it for a directory and reports ENOTDIR.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "EPERM" && code !== "ENOTDIR") throw error;
      await clearAppendOnly(this.logPath(id));
      await rm(this.jobDir(id), { recursive: true, force: true });
    }
  }

  /**
   * Removes a job's folder as `remove` does, a few folders per turn of the
   * event loop: for retention, which may expire thousands of jobs at once.
   * Resolves once this one is gone.
   */
  discard(id: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const settle = (error?: unknown) => (error === undefined ? resolve() : reject(error));
      if (this.discards.push({ id, settle }) === 1) setImmediate(() => this.discardSome());
    });
  }

  private discardSome(): void {
    for (const { id, settle } of this.discards.splice(0, DISCARDS_PER_TURN)) {
      this.remove(id).then(() => settle(), settle);
    }
    if (this.discards.length > 0) setImmediate(() => this.discardSome());
  }
}

/**
 * Removes a folder of plain files (what a job's folder holds) with one call per
 * file, inline. An ended job's folder holds three or four files (the launcher
 * removes its FIFO, socket and empty log as it exits): the calls take tens of
 * microseconds, where a recursive rm checks each entry's type first and each
 * thread-pool round trip costs more CPU than the call it makes. Once old jobs
 * are pruned as new ones end, that was a tenth of the server's CPU per job.
 * False when the folder held anything else (or an append-only output): the
 * caller then removes it the thorough way.
 */
function removeFlatDir(dir: string): boolean {
  try {
    for (const name of readdirSync(dir)) unlinkSync(join(dir, name));
    rmdirSync(dir);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Gone already (a concurrent removal) is removed; ENOENT for a file in it means the folder changed: look again.
    return code === "ENOENT" && !existsSync(dir);
  }
}

/**
 * Marks the jobs directory as the top of unrelated directory trees (ext4's
 * "T" attribute), so ext4 places each job's folder, and the files in it, in
 * block groups spread over the disk rather than all in one. Jobs are created
 * and deleted all day; without a journal, ext4 avoids reusing an inode deleted
 * in the last minutes, and every file created in a group scans past all of
 * those. With every job in one group that scan cost the server more CPU per
 * job than anything else. Elsewhere (other filesystems) the attribute is
 * refused, and nothing is lost.
 */
async function spreadJobDirs(dir: string): Promise<void> {
  await promisify(execFile)("chattr", ["+T", dir]).catch(() => {});
}

/** Clears a file's append-only inode flag (Node has no ioctl; e2fsprogs' chattr is on every Debian host). */
async function clearAppendOnly(path: string): Promise<void> {
  await promisify(execFile)("chattr", ["-a", path]).catch((error: unknown) => {
    throw new Error(`cannot clear the append-only flag of ${path} (is chattr installed?): ${error}`);
  });
}

/** The fields recovery relies on, with their types: a record without them is corrupt. */
function isJobRecord(value: unknown, id: string): value is StoredJob {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    record.id === id &&
    typeof record.owner === "string" &&
    typeof record.command === "string" &&
    Array.isArray(record.args) &&
    typeof record.limits === "object" &&
    record.limits !== null &&
    typeof record.createdAt === "number" &&
    Number.isSafeInteger(record.uid) &&
    typeof record.state === "string" &&
    (JOB_STATES as readonly string[]).includes(record.state)
  );
}
