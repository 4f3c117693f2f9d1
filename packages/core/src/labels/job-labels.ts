import { invalidArgument } from "../errors.js";

/** Longest job name, and longest label name part or value (as Kubernetes). */
export const MAX_NAME_LENGTH = 63;
/** Most labels one job may carry. */
export const MAX_LABELS = 64;

/** A name: starts with a letter or digit, then letters, digits, "_", "." or "-" (as docker's container names). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** A label's name part or value: alphanumeric at both ends, "-", "_" or "." inside (Kubernetes). */
const LABEL_PART = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
/** A label key's prefix: a DNS subdomain (lowercase labels joined by dots). */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Refuses a job name that is not 1-63 characters of letters, digits, "_", "." and "-", starting alphanumeric. */
export function validateJobName(name: string): void {
  if (name.length > MAX_NAME_LENGTH || !NAME.test(name)) {
    throw invalidArgument(
      `job name ${JSON.stringify(name.slice(0, 80))} must be 1-${MAX_NAME_LENGTH} letters, digits, "_", "." or "-", starting with a letter or digit`,
    );
  }
}

/** Refuses a label key that Kubernetes would: `[prefix/]name`, name 1-63 characters, prefix a DNS subdomain of at most 253. */
export function validateLabelKey(key: string): void {
  const slash = key.indexOf("/");
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  const badName = name.length === 0 || name.length > MAX_NAME_LENGTH || !LABEL_PART.test(name);
  const badPrefix = prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix));
  if (badName || badPrefix) {
    throw invalidArgument(
      `label key ${JSON.stringify(key.slice(0, 300))} must be [prefix/]name: a name of 1-${MAX_NAME_LENGTH} letters, digits, "-", "_" or ".", alphanumeric at both ends, and an optional DNS-subdomain prefix`,
    );
  }
}

/** Refuses a label value that Kubernetes would: empty, or 1-63 characters alphanumeric at both ends. */
export function validateLabelValue(key: string, value: string): void {
  if (value === "") return;
  if (value.length > MAX_NAME_LENGTH || !LABEL_PART.test(value)) {
    throw invalidArgument(
      `label ${key}: value ${JSON.stringify(value.slice(0, 80))} must be empty or 1-${MAX_NAME_LENGTH} letters, digits, "-", "_" or ".", alphanumeric at both ends`,
    );
  }
}

/** Refuses a label set with too many labels or any key or value Kubernetes would refuse. */
export function validateLabels(labels: Readonly<Record<string, string>>): void {
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS) throw invalidArgument(`a job may carry at most ${MAX_LABELS} labels`);
  for (const [key, value] of entries) {
    validateLabelKey(key);
    validateLabelValue(key, value);
  }
}
