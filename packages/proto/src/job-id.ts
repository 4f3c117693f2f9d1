/** A job id as the API defines it: a UUID in lowercase canonical form. */
export const JOB_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True when `id` is a well-formed job id (whether such a job exists is the server's business). */
export function isJobId(id: string): boolean {
  return JOB_ID_PATTERN.test(id);
}
