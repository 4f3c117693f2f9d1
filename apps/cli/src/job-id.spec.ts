import { describe, expect, it } from "vitest";
import type { JobClient } from "./connection/client.js";
import { resolveJobId } from "./job-id.js";

/** A stand-in for the server's ListJobs: resolveJobId needs nothing else. */
function listing(ids: string[], names: Record<string, string> = {}): JobClient {
  const client: Pick<JobClient, "listJobs"> = {
    listJobs: async () =>
      ({ jobs: ids.map((id) => ({ id, name: names[id] ?? "", owner: "alice" })) }) as Awaited<
        ReturnType<JobClient["listJobs"]>
      >,
  };
  return client as JobClient;
}

describe("resolveJobId", () => {
  const a = "3f2a9c10-0000-4000-8000-000000000001";
  const b = "3f2a9c11-0000-4000-8000-000000000002";

  it("expands a unique prefix", async () => {
    expect(await resolveJobId(listing([a, b]), "3f2a9c10")).toBe(a);
  });

  it("passes a full id through without asking the server", async () => {
    expect(await resolveJobId(listing([]), a.toUpperCase())).toBe(a);
  });

  it("lists the candidates of an ambiguous prefix", async () => {
    await expect(resolveJobId(listing([a, b]), "3f2a9c1")).rejects.toThrow(
      `job id prefix 3f2a9c1 is ambiguous; it matches ${a}, ${b}`,
    );
  });

  it("refuses a prefix shorter than 6 characters, and one that matches nothing", async () => {
    await expect(resolveJobId(listing([a]), "3f2a9")).rejects.toThrow(/at least 6 hex characters/);
    await expect(resolveJobId(listing([a]), "ffffff")).rejects.toThrow(
      /no job is named ffffff or has an id starting with it/,
    );
  });

  it("takes a job's exact name, before any id prefix it could also be", async () => {
    expect(await resolveJobId(listing([a, b], { [b]: "build-42" }), "build-42")).toBe(b);
    expect(await resolveJobId(listing([a, b], { [b]: "3f2a9c10" }), "3f2a9c10")).toBe(b);
    await expect(resolveJobId(listing([a], { [a]: "Build" }), "build")).rejects.toThrow(/no job is named "build"/);
  });
});
