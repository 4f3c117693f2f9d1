import type { Job, JobState } from "@jobworker/proto";
import { type DescribedError, describeError } from "./cli-error.js";
import type { ConnectionSettings } from "./connection/settings.js";
import { jobTable } from "./format/job-text.js";
import { listAllJobs } from "./list-all.js";

/** One context's answer to a list across contexts: its jobs, or why it gave none. */
export interface ContextJobs {
  context: string;
  jobs: Job[];
  error?: DescribedError;
}

/**
 * Lists the jobs of several servers at once, one client per context, all
 * asked in parallel: a server that is down or refuses costs its own row of
 * the answer, never the others'.
 */
export async function listContextsJobs(
  contexts: readonly { name: string; settings: ConnectionSettings }[],
  filter: { state?: JobState; owner?: string },
): Promise<ContextJobs[]> {
  // Loaded here, not at start-up: Connect's Node transport brings http2 and tls, which a start-up snapshot cannot hold.
  const { createJobClient } = await import("./connection/client.js");
  const { explainTlsFailure } = await import("./tls/explain-tls-failure.js");
  return Promise.all(
    contexts.map(async ({ name, settings }) => {
      try {
        return { context: name, jobs: await listAllJobs(createJobClient(settings), filter) };
      } catch (error) {
        const explained = await explainTlsFailure(error, settings);
        return { context: name, jobs: [], error: describeError(explained ?? error, settings.server) };
      }
    }),
  );
}

/** `list`'s table with a CONTEXT column in front, each line cut to `width` columns. */
export function contextJobTable(answers: readonly ContextJobs[], width: number): string {
  const contextOf = answers.flatMap((answer) => answer.jobs.map(() => answer.context));
  const contextWidth = Math.max("CONTEXT".length, ...contextOf.map((name) => name.length));
  const table = jobTable(
    answers.flatMap((answer) => answer.jobs),
    width - contextWidth - 2,
  ).split("\n");
  return table
    .map((line, row) => `${(row === 0 ? "CONTEXT" : (contextOf[row - 1] ?? "")).padEnd(contextWidth)}  ${line}`)
    .join("\n");
}
