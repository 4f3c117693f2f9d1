import type { Job, JobState } from "@jobworker/proto";
import type { JobClient } from "./connection/client.js";

/** Every job the caller may see that matches, page by page (the server sends at most 1000 at a time). */
export async function listAllJobs(
  client: JobClient,
  filter: { state?: JobState; owner?: string; labelSelector?: string; queue?: string } = {},
): Promise<Job[]> {
  const jobs: Job[] = [];
  let pageToken = "";
  do {
    const page = await client.listJobs({ ...filter, pageSize: 1000, pageToken });
    jobs.push(...page.jobs);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return jobs;
}
