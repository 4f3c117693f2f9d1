import { toJson } from "@bufbuild/protobuf";
import { durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import { type JobUsage, JobUsageSchema } from "@jobworker/proto";
import { Args, Flags } from "@oclif/core";
import { JobCommand } from "../base-command.js";
import { alignedTable, SHORT_ID_LENGTH } from "../format/job-text.js";
import { terminalSafe } from "../format/terminal-safe.js";
import { JOB_REF_DESCRIPTION } from "../job-id.js";
import { resolveJobIds, selectorFlag } from "../job-selection.js";
import { writeStdout } from "../output-writer.js";
import { interruptSignal } from "../stream-to-stdout.js";
import { formatBytes, formatDurationMs, parseDuration } from "../units.js";

/** Clears a terminal and puts the cursor home: each sample replaces the last, as docker stats does. */
const CLEAR = "\u001b[2J\u001b[H";

export default class Stats extends JobCommand<typeof Stats> {
  static override summary = "Show running jobs' live resource usage, refreshing, like docker stats.";
  static override description = `Without ids, every running job of yours (jobs started later join). CPU % is of one
core (200 % = two cores) over the last interval. --no-stream prints one sample, taken one
interval after the first so its CPU % is measured over that interval; --json prints each
job's sample as one JSON object per line.`;
  static override examples = [
    "<%= config.bin %> stats",
    "<%= config.bin %> stats build-42 --no-stream",
    "<%= config.bin %> stats -l team=infra --interval 2s --json",
  ];
  static override strict = false;
  static override args = {
    id: Args.string({ description: `${JOB_REF_DESCRIPTION}; several may be given` }),
  };
  static override flags = {
    "no-stream": Flags.boolean({ summary: "Print one sample and exit." }),
    interval: Flags.string({ summary: "Time between samples: at least 250ms.", default: "1s" }),
    selector: selectorFlag,
  };

  async run(): Promise<unknown> {
    const intervalMs = parseDuration(this.flags.interval, "interval");
    const { signal } = interruptSignal();
    const client = await this.client();
    const ids = this.argvRest.length > 0 ? await resolveJobIds(client, this.argvRest, undefined) : [];
    const request = { ids, interval: durationFromMs(intervalMs), labelSelector: this.flags.selector ?? "" };
    const once = this.flags["no-stream"];
    let seen = 0;
    for await (const sample of client.watchUsage(request, { signal })) {
      seen++;
      // The first sample's CPU % averages over each job's life; the next one's over one interval.
      if (once && seen < 2) continue;
      if (this.jsonEnabled()) {
        const objects = sample.jobs.map((job) => toJson(JobUsageSchema, job, { alwaysEmitImplicit: true }));
        if (once) return objects;
        for (const object of objects)
          if (!(await writeStdout(Buffer.from(`${JSON.stringify(object)}\n`)))) return undefined;
        continue;
      }
      const table = usageTable(sample.jobs, process.stdout.columns || Number.POSITIVE_INFINITY);
      const clear = process.stdout.isTTY && !once ? CLEAR : "";
      if (!(await writeStdout(Buffer.from(`${clear}${table}\n`)))) return undefined;
      if (once) return undefined;
    }
    return undefined;
  }
}

/** The stats table: one row per job. */
export function usageTable(jobs: readonly JobUsage[], width: number): string {
  const rows = jobs.map((job) => {
    const usage = job.usage;
    const limit = job.limits?.memoryBytes;
    const memory = usage ? formatBytes(usage.memoryCurrentBytes) : "-";
    const memoryPercent =
      usage && limit ? `${((Number(usage.memoryCurrentBytes) / Number(limit)) * 100).toFixed(1)} %` : "-";
    return [
      job.id.slice(0, SHORT_ID_LENGTH),
      terminalSafe(job.name) || "-",
      usage ? `${usage.cpuPercent.toFixed(1)} %` : "-",
      usage?.cpuTime ? formatDurationMs(durationMs(usage.cpuTime)) : "-",
      limit === undefined ? memory : `${memory} / ${formatBytes(limit)}`,
      memoryPercent,
      usage ? String(usage.pidsCurrent) : "-",
      usage ? `${formatBytes(usage.ioReadBytes)} / ${formatBytes(usage.ioWriteBytes)}` : "-",
      usage ? formatBytes(usage.outputBytes) : "-",
    ];
  });
  return alignedTable(
    [["ID", "NAME", "CPU %", "CPU TIME", "MEM USAGE / LIMIT", "MEM %", "PIDS", "IO READ / WRITE", "OUTPUT"], ...rows],
    width,
  );
}
