import { invalidArgument } from "./errors.js";
import type { Job } from "./job.js";
import type { ManagedJob } from "./managed-job.js";
import type { StoredJob } from "./state-store.js";

/** One page of `list`: the jobs, and the token of the next page when there is one. */
export interface JobPage {
  /** The page's jobs, oldest first. */
  jobs: Job[];
  /** Pass as `token` for the next page; absent on the last page. */
  nextPageToken?: string;
}

/** Creation time, then id: the order of `list` and its pages. */
export function compareJobs(a: Pick<Job, "createdAt" | "id">, b: Pick<Job, "createdAt" | "id">): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Cuts one page from jobs in list order. The token names the last job of the
 * page by its creation time and id, so a page never repeats or skips a job,
 * even when jobs are added or deleted between pages (that job included). A
 * page also ends before its jobs' strings pass maxBytes (holding at least one
 * job), so that a page of jobs with long argument lists stays a message any
 * client can take.
 */
export function pageOf(
  ordered: readonly ManagedJob[],
  page: { size: number; token?: string; maxBytes?: number },
): { jobs: ManagedJob[]; nextPageToken?: string } {
  let from = 0;
  if (page.token) {
    const after = parsePageToken(page.token);
    from = ordered.findIndex((job) => compareJobs(job.record, after) > 0);
    if (from < 0) from = ordered.length;
  }
  const jobs: ManagedJob[] = [];
  let bytes = 0;
  for (const job of ordered.slice(from, from + page.size)) {
    bytes += recordBytes(job.record);
    if (jobs.length > 0 && page.maxBytes !== undefined && bytes > page.maxBytes) break;
    jobs.push(job);
  }
  const last = jobs[jobs.length - 1];
  const more = from + jobs.length < ordered.length;
  return { jobs, nextPageToken: more && last ? `${last.record.createdAt}.${last.id}` : undefined };
}

function parsePageToken(token: string): Pick<Job, "createdAt" | "id"> {
  const match = /^(\d+)\.([0-9a-f-]{36})$/.exec(token);
  if (!match) throw invalidArgument("malformed page token: pass the next_page_token of the previous page");
  return { createdAt: Number(match[1]), id: match[2] as string };
}

/** About the bytes a job's record takes on the wire: its strings, plus a little for the rest. */
function recordBytes(job: StoredJob): number {
  let bytes = 512 + Buffer.byteLength(job.command) + Buffer.byteLength(job.workingDirectory);
  for (const arg of job.args) bytes += Buffer.byteLength(arg) + 2;
  return bytes + (job.argsFile?.bytes ?? 0);
}
