import { type Job, JobEventType, JobState } from "@jobworker/proto";
import { useEffect, useState } from "preact/hooks";
import type { JobClient } from "./api.js";
import { age, bytes, commandLine, labelText, outcome, stateName, time } from "./format.js";
import { Problem } from "./problem.js";
import { watchJobs, watchUsage } from "./streams.js";

interface Usage {
  cpuPercent: number;
  memoryBytes: bigint;
}

/** Jobs live from WatchJobs (snapshot, then each change), with CPU and memory of the running ones from WatchUsage. */
export function JobsPage({ client }: { client: JobClient }) {
  const [jobs, setJobs] = useState<Map<string, Job>>(new Map());
  const [usage, setUsage] = useState<Map<string, Usage>>(new Map());
  const [selector, setSelector] = useState("");
  const [appliedSelector, setAppliedSelector] = useState("");
  const [stateFilter, setStateFilter] = useState<JobState>(JobState.UNSPECIFIED);
  const [search, setSearch] = useState("");
  const [problem, setProblem] = useState<unknown>();

  useEffect(() => {
    const abort = new AbortController();
    let pending = new Map<string, Job>();
    let synced = false;
    setJobs(new Map());
    void watchJobs(client, appliedSelector, abort.signal, setProblem, (event) => {
      const job = event.job;
      if (event.type === JobEventType.SNAPSHOT && job) {
        pending.set(job.id, job);
        return;
      }
      if (event.type === JobEventType.SYNCED) {
        // A restarted server sends a fresh snapshot: it replaces what the page held.
        if (event.reset || !synced) setJobs(new Map(pending));
        pending = new Map();
        synced = true;
        return;
      }
      if (!job) return;
      if (!synced) {
        pending.set(job.id, job);
        return;
      }
      setJobs((previous) => {
        const next = new Map(previous);
        if (event.type === JobEventType.DELETED) next.delete(job.id);
        else next.set(job.id, job);
        return next;
      });
    });
    void watchUsage(
      client,
      [],
      abort.signal,
      () => {},
      (response) => {
        setUsage(
          new Map(
            response.jobs.map((sample) => [
              sample.id,
              { cpuPercent: sample.usage?.cpuPercent ?? 0, memoryBytes: sample.usage?.memoryCurrentBytes ?? 0n },
            ]),
          ),
        );
      },
    );
    return () => abort.abort();
  }, [client, appliedSelector]);

  const needle = search.trim().toLowerCase();
  const shown = [...jobs.values()]
    .filter((job) => stateFilter === JobState.UNSPECIFIED || job.state === stateFilter)
    .filter(
      (job) =>
        !needle ||
        [job.id, job.name, commandLine(job), labelText(job.labels)].some((text) => text.toLowerCase().includes(needle)),
    )
    .sort((a, b) => Number((b.createTime?.seconds ?? 0n) - (a.createTime?.seconds ?? 0n)) || a.id.localeCompare(b.id));

  // An admin sees several owners' jobs: then the table says whose each is.
  const owners = new Set([...jobs.values()].map((job) => job.owner));
  const showOwner = owners.size > 1;
  // Ages move on by themselves: redraw them every few seconds.
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((tick) => tick + 1), 5000);
    return () => clearInterval(timer);
  }, []);
  const now = Date.now();

  return (
    <section>
      <h1>Jobs</h1>
      <form
        class="filters"
        onSubmit={(event) => {
          event.preventDefault();
          setAppliedSelector(selector.trim());
        }}
      >
        <label>
          State
          <select
            name="state"
            value={String(stateFilter)}
            onChange={(event) => setStateFilter(Number(event.currentTarget.value) as JobState)}
          >
            <option value={String(JobState.UNSPECIFIED)}>any</option>
            {[JobState.STARTING, JobState.RUNNING, JobState.STOPPING, JobState.ENDED].map((state) => (
              <option value={String(state)}>{stateName(state)}</option>
            ))}
          </select>
        </label>
        <label>
          Labels
          <input
            name="selector"
            placeholder="team=infra,!tmp"
            value={selector}
            onInput={(event) => setSelector(event.currentTarget.value)}
          />
        </label>
        <button type="submit">Apply</button>
        <label>
          Search
          <input
            name="search"
            type="search"
            placeholder="id, name, command"
            value={search}
            onInput={(event) => setSearch(event.currentTarget.value)}
          />
        </label>
      </form>
      <Problem error={problem} />
      <div class="table-wrap">
        <table class="jobs">
          <thead>
            <tr>
              <th>Job</th>
              {showOwner && <th class="owner">Owner</th>}
              <th class="command">Command</th>
              <th>State</th>
              <th class="num">CPU</th>
              <th class="num">Memory</th>
              <th class="labels">Labels</th>
              <th class="age">Age</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((job) => {
              const sample = usage.get(job.id);
              const live = job.state === JobState.RUNNING && sample;
              return (
                <tr key={job.id} data-job={job.id} data-state={stateName(job.state)}>
                  <td>
                    <a href={`#/jobs/${job.id}`}>{job.name || job.id.slice(0, 8)}</a>
                  </td>
                  {showOwner && <td class="owner">{job.owner}</td>}
                  <td class="command">{commandLine(job)}</td>
                  <td class="state">
                    <span class={`badge ${stateName(job.state)}`}>{stateName(job.state)}</span> {outcome(job)}
                  </td>
                  <td class="num cpu">{live ? `${sample.cpuPercent.toFixed(1)}%` : ""}</td>
                  <td class="num memory">{live ? bytes(sample.memoryBytes) : ""}</td>
                  <td class="labels">{labelText(job.labels)}</td>
                  <td class="age" title={time(job.createTime)}>
                    {age(job.createTime, now)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {shown.length === 0 && <p class="empty">No jobs{jobs.size > 0 ? " match" : " yet"}.</p>}
      </div>
    </section>
  );
}
