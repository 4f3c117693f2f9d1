import { readFileSync } from "node:fs";

/** The job uid range: transient uids (and the gids of the same numbers) handed to jobs. */
export interface UidRange {
  first: number;
  count: number;
}

/** The kernel's "no id" value: setresuid(-1) changes nothing, so it must never be a job's uid. */
const NO_ID = 2 ** 32 - 1;

/**
 * Checks that no job could ever run as root, as the "no id" value, or as one of
 * the host's own users or groups: a job shares its uid with nothing else.
 * Throws an error that names the clash and the setting to change.
 */
export function checkUidRange(range: UidRange, accountFiles = { passwd: "/etc/passwd", group: "/etc/group" }): void {
  const { first, count } = range;
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(count) || first < 1 || count < 1) {
    throw new Error(`the job uid range must start above 0 and hold at least one uid, got ${first} + ${count}`);
  }
  const last = first + count - 1;
  if (last >= NO_ID) throw new Error(`the job uid range ${first}-${last} must end below ${NO_ID}`);
  for (const [kind, file] of [
    ["user", accountFiles.passwd],
    ["group", accountFiles.group],
  ] as const) {
    for (const { name, id } of accountIds(file)) {
      if (id >= first && id <= last) {
        throw new Error(`the job uid range ${first}-${last} holds the host's ${kind} ${name} (${id}): move the range`);
      }
    }
  }
}

/** Names and numeric ids of an /etc/passwd or /etc/group file (the third field in both). */
function accountIds(file: string): { name: string; id: number }[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return []; // a host without the file has no such accounts to clash with
  }
  return text
    .split("\n")
    .map((line) => line.split(":"))
    .filter((fields) => fields.length >= 3 && /^\d+$/.test(fields[2] ?? ""))
    .map((fields) => ({ name: fields[0] ?? "", id: Number(fields[2]) }));
}
