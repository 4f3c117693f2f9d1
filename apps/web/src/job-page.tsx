import { type Job, JobEventType, type ResourceUsage } from "@jobworker/proto";
import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import { useEffect, useRef, useState } from "preact/hooks";
import type { JobClient } from "./api.js";
import { bytes, commandLine, labelText, outcome, stateName, time } from "./format.js";
import { Problem } from "./problem.js";
import { Sparkline } from "./sparkline.js";
import { followOutput, isLive, readAllOutput, watchJobs, watchUsage } from "./streams.js";

const HISTORY = 60;
const TAIL_LINES = 200n;

type Start = "start" | "tail";

/** One job: status, limits, live usage, its output in a terminal (typed into when it has one), and actions. */
export function JobPage({ client, id }: { client: JobClient; id: string }) {
  const [job, setJob] = useState<Job>();
  const [problem, setProblem] = useState<unknown>();
  const [streamProblem, setStreamProblem] = useState<unknown>();
  const [usage, setUsage] = useState<ResourceUsage>();
  const [cpu, setCpu] = useState<number[]>([]);
  const [memory, setMemory] = useState<number[]>([]);
  const [start, setStart] = useState<Start>("start");

  // The job record: fetched once, then kept current from WatchJobs.
  useEffect(() => {
    const abort = new AbortController();
    client.getJob({ id }, { signal: abort.signal }).then(
      (response) => setJob(response.job),
      (error) => abort.signal.aborted || setProblem(error),
    );
    void watchJobs(client, "", abort.signal, setStreamProblem, (event) => {
      if (event.job?.id !== id) return;
      if (event.type === JobEventType.DELETED) location.hash = "#/";
      else setJob(event.job);
    });
    return () => abort.abort();
  }, [client, id]);

  const live = job !== undefined && isLive(job.state);
  useEffect(() => {
    if (!live) return;
    const abort = new AbortController();
    void watchUsage(
      client,
      [id],
      abort.signal,
      () => {},
      (response) => {
        const sample = response.jobs.find((each) => each.id === id)?.usage;
        if (!sample) return;
        setUsage(sample);
        setCpu((values) => [...values, sample.cpuPercent].slice(-HISTORY));
        setMemory((values) => [...values, Number(sample.memoryCurrentBytes)].slice(-HISTORY));
      },
    );
    return () => abort.abort();
  }, [client, id, live]);

  const act = async (what: string, run: () => Promise<unknown>) => {
    if (!confirm(`${what} job ${job?.name || id}?`)) return;
    try {
      setProblem(undefined);
      await run();
    } catch (error) {
      setProblem(error);
    }
  };

  const download = async () => {
    try {
      const blob = await readAllOutput(client, id);
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = `${job?.name || id}.log`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } catch (error) {
      setProblem(error);
    }
  };

  if (!job) {
    return (
      <section>
        <h1>Job {id}</h1>
        {problem ? <Problem error={problem} /> : <p>Loading…</p>}
      </section>
    );
  }
  const limits = job.limits;
  return (
    <section class="job">
      <h1>
        {job.name || job.id.slice(0, 8)}{" "}
        <span class={`badge ${stateName(job.state)}`} data-testid="job-state">
          {stateName(job.state)}
        </span>{" "}
        <span class="outcome">{outcome(job)}</span>
      </h1>
      <p class="command">
        <code>{commandLine(job)}</code>
      </p>
      <div class="actions">
        <button type="button" disabled={!live} onClick={() => act("Stop", () => client.stopJob({ id }))}>
          Stop
        </button>
        <button
          type="button"
          disabled={!live}
          onClick={() => act("Kill (SIGKILL)", () => client.signalJob({ id, signal: "SIGKILL" }))}
        >
          Kill
        </button>
        <button
          type="button"
          class="danger"
          onClick={() =>
            act("Delete", async () => {
              await client.deleteJob({ id });
              location.hash = "#/";
            })
          }
        >
          Delete
        </button>
        <button type="button" onClick={download}>
          Download output
        </button>
      </div>
      <Problem error={problem ?? streamProblem} />
      <div class="facts">
        <dl>
          <dt>Id</dt>
          <dd>{job.id}</dd>
          <dt>Owner</dt>
          <dd>{job.owner}</dd>
          <dt>Labels</dt>
          <dd>{labelText(job.labels) || "–"}</dd>
          <dt>Created</dt>
          <dd>{time(job.createTime)}</dd>
          <dt>Started</dt>
          <dd>{time(job.startTime)}</dd>
          <dt>Ended</dt>
          <dd>{time(job.endTime)}</dd>
          {job.endDetail && (
            <>
              <dt>Detail</dt>
              <dd>{job.endDetail}</dd>
            </>
          )}
        </dl>
        <dl>
          <dt>CPU limit</dt>
          <dd>{limits?.cpuMillicores !== undefined ? cpuCores(limits.cpuMillicores) : "–"}</dd>
          <dt>Memory limit</dt>
          <dd>{bytes(limits?.memoryBytes)}</dd>
          <dt>Processes</dt>
          <dd>{limits?.maxPids ?? "–"}</dd>
          <dt>Disk</dt>
          <dd>{bytes(limits?.diskBytes)}</dd>
          <dt>Output</dt>
          <dd>{bytes(usage?.outputBytes ?? job.outputBytes)}</dd>
        </dl>
        <div class="charts">
          <div>
            <span>CPU {usage ? `${usage.cpuPercent.toFixed(1)}%` : "–"}</span>
            <Sparkline values={cpu} label="CPU use" />
          </div>
          <div>
            <span>Memory {bytes(usage?.memoryCurrentBytes ?? job.usage?.memoryPeakBytes)}</span>
            <Sparkline values={memory} label="Memory use" />
          </div>
        </div>
      </div>
      <div class="output-head">
        <h2>Output</h2>
        <label>
          Show{" "}
          <select name="from" value={start} onChange={(event) => setStart(event.currentTarget.value as Start)}>
            <option value="start">from the start</option>
            <option value="tail">the last {String(TAIL_LINES)} lines</option>
          </select>
        </label>
        {job.tty && live && <span class="hint">This job has a terminal: click it and type.</span>}
      </div>
      <Output key={start} client={client} job={job} start={start} onProblem={setStreamProblem} />
    </section>
  );
}

/** The job's output in xterm, followed live; keys go to the job through WriteJobInput when it has a terminal. */
function Output({
  client,
  job,
  start,
  onProblem,
}: {
  client: JobClient;
  job: Job;
  start: Start;
  onProblem: (problem: unknown) => void;
}) {
  const container = useRef<HTMLDivElement>(null);
  const { id, tty } = job;
  useEffect(() => {
    if (!container.current) return;
    const abort = new AbortController();
    // Without a terminal the job writes bare newlines; xterm needs them as CR LF.
    const terminal = new Terminal({ convertEol: !tty, scrollback: 10_000 });
    // The terminal fills its box, and follows it when the window changes size.
    const fit = new FitAddon();
    terminal.loadAddon(fit);
    terminal.open(container.current);
    fit.fit();
    const observer = new ResizeObserver(() => fit.fit());
    observer.observe(container.current);
    if (tty) {
      // The job's terminal takes the page's size, now and whenever it changes (its programs get SIGWINCH).
      const resize = () =>
        client.resizeJobTerminal({ id, size: { rows: terminal.rows, columns: terminal.cols } }).catch(() => {});
      void resize();
      terminal.onResize(() => void resize());
      const encoder = new TextEncoder();
      // Keys are sent in order: each write waits for the one before it.
      let queue: Promise<unknown> = Promise.resolve();
      terminal.onData((data) => {
        queue = queue.then(() => client.writeJobInput({ id, data: encoder.encode(data) }).catch(onProblem));
      });
    }
    void followOutput(
      client,
      id,
      start === "tail" ? { tailLines: TAIL_LINES } : { fromOffset: 0n },
      abort.signal,
      onProblem,
      (chunk) => terminal.write(chunk.data),
    );
    return () => {
      abort.abort();
      observer.disconnect();
      terminal.dispose();
    };
  }, [client, id, tty, start, onProblem]);
  return <div class="terminal" ref={container} data-testid="terminal" data-start={start} />;
}

/** A CPU limit as people say it: "1 core", "0.5 cores", "2 cores". */
function cpuCores(millicores: number): string {
  const cores = millicores / 1000;
  return `${cores} ${cores === 1 ? "core" : "cores"}`;
}
