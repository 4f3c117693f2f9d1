import type { JsonValue } from "@bufbuild/protobuf";
import { Flags } from "@oclif/core";

/** What `-o` may ask for: a wider table, JSON, YAML, or only the ids. */
export const OUTPUT_FORMATS = ["wide", "json", "yaml", "name"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number] | "table";

/** `-o`: how to print jobs, as kubectl's. */
export const outputFlag = Flags.string({
  char: "o",
  summary: "Output format: wide (full ids, labels), json, yaml, or name (ids only).",
  options: [...OUTPUT_FORMATS],
});

/** `-q`: ids only, one a line, for scripts (as docker's). */
export const quietFlag = Flags.boolean({ char: "q", summary: "Only job ids, one a line." });

/** The format the flags ask for; `--json` is the same as `-o json`. */
export function outputFormat(flags: { output?: string; quiet?: boolean }, json: boolean): OutputFormat {
  if (json) return "json";
  if (flags.quiet) return "name";
  const chosen = OUTPUT_FORMATS.find((format) => format === flags.output);
  return chosen ?? "table";
}

/**
 * A JSON value as YAML. Strings are written in JSON's double-quoted form,
 * which YAML reads as the same string, so no value can be misread (a "no", a
 * "1.0", a leading "-") or break the document.
 */
export function toYaml(value: JsonValue, indent = ""): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return value.map((item) => `${indent}- ${toYaml(item, `${indent}  `).trimStart()}`).join("\n");
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 0) return "{}";
    return entries
      .map(([key, item]) => {
        const name = JSON.stringify(key);
        if (item !== null && typeof item === "object" && Object.keys(item).length > 0) {
          return `${indent}${name}:\n${toYaml(item, `${indent}  `)}`;
        }
        return `${indent}${name}: ${toYaml(item ?? null, indent)}`;
      })
      .join("\n");
  }
  return JSON.stringify(value);
}
