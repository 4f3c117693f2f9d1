import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createAuthority, DEV_CLIENTS, type IssueOptions, issue, writePair } from "@jobworker/dev-pki";

const DAY_MS = 86_400_000;

/**
 * The dev PKI's files (ca.crt, server, alice, bob, admin) plus the identities
 * the refusals need: `nobody` (this CA, no OU), `stranger` (alice/user from
 * another CA) and `expired` (alice/user, this CA, expired yesterday).
 */
export async function writeInteropPki(dir: string): Promise<void> {
  const ca = await createAuthority("jobworker interop CA");
  const other = await createAuthority("some other CA");
  await writeFile(join(dir, "ca.crt"), ca.cert);
  await writePair(dir, "server", await issue(ca, { commonName: "localhost", usage: "server" }));
  for (const [name, unit] of Object.entries(DEV_CLIENTS)) {
    await writePair(dir, name, await issue(ca, { commonName: name, organizationalUnits: [unit], usage: "client" }));
  }
  await writePair(dir, "nobody", await issue(ca, { commonName: "nobody", usage: "client" }));
  const alice: IssueOptions = { commonName: "alice", organizationalUnits: ["user"], usage: "client" };
  await writePair(dir, "stranger", await issue(other, alice));
  const yesterday = new Date(Date.now() - DAY_MS);
  await writePair(
    dir,
    "expired",
    await issue(ca, { ...alice, notBefore: new Date(Date.now() - 3 * DAY_MS), notAfter: yesterday }),
  );
}
