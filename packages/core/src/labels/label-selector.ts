import { invalidArgument } from "../errors.js";
import { validateLabelKey, validateLabelValue } from "./job-labels.js";

/** One requirement of a selector: `key=value`, `key!=value`, `key` (has it) or `!key` (has it not). */
export type LabelRequirement =
  | { key: string; op: "equals" | "not_equals"; value: string }
  | { key: string; op: "exists" | "not_exists" };

/** Requirements that must all hold: what `list -l`, `events -l` and `clean -l` select on. */
export type LabelSelector = readonly LabelRequirement[];

/**
 * Parses a selector in Kubernetes' equality-based syntax: requirements joined
 * by commas, each `key=value` (or `key==value`), `key!=value`, `key` or `!key`.
 * An empty string selects every job.
 */
export function parseLabelSelector(text: string): LabelSelector {
  const requirements: LabelRequirement[] = [];
  for (const raw of text.split(",")) {
    const part = raw.trim();
    if (part === "") {
      if (text.trim() === "") continue;
      throw invalidArgument(`label selector ${JSON.stringify(text)} has an empty requirement`);
    }
    const match = /^(!)?([^=!]+?)\s*(?:(!=|==|=)\s*(.*))?$/.exec(part);
    if (!match)
      throw invalidArgument(
        `label selector requirement ${JSON.stringify(part)} must be key=value, key!=value, key or !key`,
      );
    const [, negated, key = "", op, value] = match;
    validateLabelKey(key);
    if (op === undefined) {
      requirements.push({ key, op: negated ? "not_exists" : "exists" });
      continue;
    }
    if (negated)
      throw invalidArgument(`label selector requirement ${JSON.stringify(part)}: "!" goes only before a bare key`);
    validateLabelValue(key, value ?? "");
    requirements.push({ key, op: op === "!=" ? "not_equals" : "equals", value: value ?? "" });
  }
  return requirements;
}

/** True when a job's labels meet every requirement of the selector. */
export function selects(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  return selector.every((requirement) => {
    const value = labels && Object.hasOwn(labels, requirement.key) ? labels[requirement.key] : undefined;
    if (!("value" in requirement)) return (value !== undefined) === (requirement.op === "exists");
    return (value === requirement.value) === (requirement.op === "equals");
  });
}
