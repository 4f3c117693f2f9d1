import { describeError } from "./api.js";

/** An API error as a readable message (role=alert, so assistive technology says it). */
export function Problem({ error }: { error: unknown }) {
  if (error === undefined) return null;
  return (
    <p class="problem" role="alert">
      {error instanceof Error && !("code" in error) ? error.message : describeError(error)}
    </p>
  );
}
