import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type Job, JobEventSchema, JobEventType, JobSchema, JobState } from "@jobworker/proto";
import { describe, expect, it } from "vitest";
import { WatchedTable } from "./watched-table.js";

const job = (id: string, state: JobState, created: number): Job =>
  create(JobSchema, { id, state, command: "/bin/true", owner: "alice", createTime: timestampFromMs(created) });
const event = (type: JobEventType, subject?: Job) => create(JobEventSchema, { type, job: subject });
const a = "aaaaaaaa-0000-4000-8000-000000000001";
const b = "bbbbbbbb-0000-4000-8000-000000000002";

describe("list -w on a terminal", () => {
  it("keeps one row per job: the snapshot, then changes in place, deletes gone, a reset snapshot replacing all", () => {
    const table = new WatchedTable();
    expect(table.apply(event(JobEventType.SNAPSHOT, job(b, JobState.RUNNING, 2)))).toBe(false);
    expect(table.apply(event(JobEventType.SYNCED))).toBe(true);
    table.apply(event(JobEventType.CREATED, job(a, JobState.STARTING, 1)));
    table.apply(event(JobEventType.ENDED, job(b, JobState.ENDED, 2)));
    const rows = table.render(500, false).split("\n");
    expect(rows.map((row) => row.split(/\s+/).slice(0, 1)[0])).toEqual(["ID", a.slice(0, 12), b.slice(0, 12)]);
    expect(rows[2]).toContain("ended");
    table.apply(event(JobEventType.DELETED, job(a, JobState.ENDED, 1)));
    expect(table.render(500, false).split("\n")).toHaveLength(2);
    // After a restart: a fresh snapshot replaces what was shown, at its SYNCED.
    table.apply(event(JobEventType.SNAPSHOT, job(a, JobState.RUNNING, 1)));
    expect(table.render(500, false)).toContain(b.slice(0, 12));
    table.apply(event(JobEventType.SYNCED));
    expect(table.render(500, false)).not.toContain(b.slice(0, 12));
    expect(table.render(500, false)).toContain(a.slice(0, 12));
  });
});
