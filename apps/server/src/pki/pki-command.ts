import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createAuthority, createCrl, issue, loadAuthority } from "@jobworker/dev-pki";
import { describeCertificate, type IssuedRecord, PkiStore, writeAtomically } from "./pki-store.js";

const DAY_MS = 86_400_000;

/** `jobworker-server pki --help`. */
export const PKI_USAGE = `Usage: jobworker-server pki <command> [flags]

Runs on an administrator's machine, not on the jobworker host: it keeps the CA's
private key. Every command works on a CA directory (--dir, default ./jobworker-ca,
env JOBWORKER_PKI_DIR), created 0700, with ca.key 0600.

Commands:
  init   [--cn NAME] [--days 3650]      make a CA: ca.crt, ca.key, an empty crl.pem
  issue  --name alice --role user|admin [--days 90] [--out DIR]
                                        a client certificate: DIR/alice.crt and alice.key (0600)
  issue  --server --dns HOST [--dns …] [--ip ADDR …] [--name NAME] [--days 397] [--out DIR]
                                        a server certificate for those names
  revoke --serial HEX | --name NAME     add the certificate(s) to crl.pem; copy it to the
                                        server's --client-crl file (the server reloads it)
  crl    [--crl-days 365]               sign crl.pem again (it must be renewed before it lapses)
  list                                  every certificate issued, with expiry and revocation

Flags common to all: --dir DIR, --json (print the result as JSON), --help.
A CRL is valid for --crl-days (default 365) from its last signing: a server refuses every
client once it lapses, so run 'pki crl' and copy crl.pem before then.`;

/** A mistake in the command line or the CA directory: printed with the usage hint, exit 2. */
export class PkiError extends Error {
  override readonly name = "PkiError";
}

type Result = Record<string, unknown> & { message: string };

/** `jobworker-server pki …`: returns the exit code. */
export async function pkiMain(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    process.stderr.write(`jobworker-server pki: ${(error as Error).message}\nRun 'jobworker-server pki --help'.\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    process.stdout.write(`${PKI_USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const store = new PkiStore(resolve(values.dir ?? env.JOBWORKER_PKI_DIR ?? "jobworker-ca"));
  try {
    const result = await run(positionals[0] ?? "", values, store);
    process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${result.message}\n`);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (values.json) process.stdout.write(`${JSON.stringify({ error: message }, null, 2)}\n`);
    process.stderr.write(`jobworker-server pki: ${message}\n`);
    return error instanceof PkiError ? 2 : 1;
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      dir: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean" },
      cn: { type: "string" },
      days: { type: "string" },
      "crl-days": { type: "string" },
      name: { type: "string" },
      role: { type: "string" },
      server: { type: "boolean" },
      dns: { type: "string", multiple: true },
      ip: { type: "string", multiple: true },
      out: { type: "string" },
      serial: { type: "string" },
    },
  });
}

type Values = ReturnType<typeof parse>["values"];

async function run(command: string, values: Values, store: PkiStore): Promise<Result> {
  switch (command) {
    case "init":
      return init(values, store);
    case "issue":
      return issueCertificate(values, store);
    case "revoke":
      return revoke(values, store);
    case "crl":
      return signCrl(values, store, await store.readIndex());
    case "list":
      return list(store);
    default:
      throw new PkiError(`unknown command ${JSON.stringify(command)}: expected init, issue, revoke, crl or list`);
  }
}

async function init(values: Values, store: PkiStore): Promise<Result> {
  if (existsSync(store.caKey)) {
    throw new PkiError(`${store.caKey} exists: a second init would orphan every certificate it issued`);
  }
  await store.create();
  const authority = await createAuthority(values.cn ?? "jobworker CA", days(values.days, 3650));
  await writeAtomically(store.caKey, authority.key, 0o600);
  await writeAtomically(store.caCert, authority.cert, 0o644);
  await store.writeIndex([]);
  await signCrl(values, store, []);
  return {
    message: `CA made in ${store.dir}: ca.crt (give it to the server as --client-ca and to clients), ca.key (keep it here, 0600), crl.pem (the server's --client-crl)`,
    caCert: store.caCert,
    caKey: store.caKey,
    crl: store.crl,
    ...describeCertificate(authority.cert),
  };
}

async function issueCertificate(values: Values, store: PkiStore): Promise<Result> {
  const authority = await openAuthority(store);
  const server = values.server === true;
  const dnsNames = values.dns ?? [];
  const ipAddresses = values.ip ?? [];
  let name: string;
  let role: IssuedRecord["role"];
  if (server) {
    if (dnsNames.length + ipAddresses.length === 0) {
      throw new PkiError("issue --server needs at least one --dns or --ip: the names clients connect to");
    }
    name = values.name ?? dnsNames[0] ?? ipAddresses[0] ?? "server";
    role = "server";
  } else {
    if (!values.name) throw new PkiError("issue needs --name (the user's identity) and --role user|admin");
    if (values.role !== "user" && values.role !== "admin") {
      throw new PkiError(`--role must be user or admin, got ${JSON.stringify(values.role ?? "")}`);
    }
    if (dnsNames.length + ipAddresses.length > 0) throw new PkiError("--dns and --ip are for --server certificates");
    name = values.name;
    role = values.role;
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(name)) {
    throw new PkiError(`--name ${JSON.stringify(name)}: use letters, digits, '.', '_', '@' or '-' (at most 64)`);
  }
  const validDays = days(values.days, server ? 397 : 90);
  const pair = await issue(authority, {
    commonName: name,
    organizationalUnits: server ? [] : [role],
    usage: server ? "server" : "client",
    // Every server certificate can also act as a fleet peer; a user certificate never can.
    peer: server,
    dnsNames,
    ipAddresses,
    notAfter: new Date(Date.now() + validDays * DAY_MS),
  });
  const out = resolve(values.out ?? store.dir);
  await mkdir(out, { recursive: true, mode: 0o700 });
  const certFile = join(out, `${name}.crt`);
  const keyFile = join(out, `${name}.key`);
  await writeAtomically(keyFile, pair.key, 0o600);
  await writeAtomically(certFile, pair.cert, 0o644);
  const described = describeCertificate(pair.cert);
  await store.writeIndex([
    ...(await store.readIndex()),
    { serial: described.serial, name, role, notAfter: described.notAfter },
  ]);
  return {
    message: `issued ${role} certificate for ${name}: ${certFile}, ${keyFile} (serial ${described.serial}, expires ${described.notAfter})`,
    cert: certFile,
    key: keyFile,
    role,
    ...described,
  };
}

async function revoke(values: Values, store: PkiStore): Promise<Result> {
  const serial = values.serial?.toUpperCase().replace(/^0X/, "").replace(/:/g, "");
  if (!serial === !values.name) throw new PkiError("revoke needs --serial HEX or --name NAME (one of them)");
  const records = await store.readIndex();
  const now = new Date().toISOString();
  const revoked: string[] = [];
  const updated = records.map((record) => {
    const match = serial ? stripZeros(record.serial) === stripZeros(serial) : record.name === values.name;
    if (!match || record.revokedAt) return record;
    revoked.push(record.serial);
    return { ...record, revokedAt: now };
  });
  if (revoked.length === 0) {
    const what = serial ? `serial ${serial}` : `name ${values.name}`;
    throw new PkiError(`no unrevoked certificate with ${what} in ${store.index} ('pki list' shows them)`);
  }
  await store.writeIndex(updated);
  const signed = await signCrl(values, store, updated);
  return { ...signed, message: `revoked ${revoked.join(", ")}; ${signed.message}`, revoked };
}

async function signCrl(values: Values, store: PkiStore, records: readonly IssuedRecord[]): Promise<Result> {
  const authority = await openAuthority(store);
  const nextUpdate = new Date(Date.now() + days(values["crl-days"], 365) * DAY_MS);
  const revoked = records.flatMap((record) =>
    record.revokedAt ? [{ serial: record.serial, revokedAt: new Date(record.revokedAt) }] : [],
  );
  await writeAtomically(store.crl, await createCrl(authority, revoked, nextUpdate), 0o644);
  return {
    message: `${store.crl} lists ${revoked.length} revoked certificate(s), valid until ${nextUpdate.toISOString()}: copy it to the server's --client-crl file`,
    crl: store.crl,
    nextUpdate: nextUpdate.toISOString(),
  };
}

async function list(store: PkiStore): Promise<Result> {
  const records = await store.readIndex();
  const lines = records.map(
    (r) =>
      `${r.serial}  ${r.role.padEnd(6)}  ${r.name.padEnd(20)}  expires ${r.notAfter}${r.revokedAt ? `  REVOKED ${r.revokedAt}` : ""}`,
  );
  return { message: lines.length > 0 ? lines.join("\n") : "no certificates issued yet", certificates: records };
}

async function openAuthority(store: PkiStore) {
  if (!existsSync(store.caKey)) throw new PkiError(`no CA in ${store.dir}: run 'jobworker-server pki init' first`);
  return loadAuthority(await readFile(store.caCert, "utf8"), await readFile(store.caKey, "utf8"));
}

function days(raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 36500) {
    throw new PkiError(`days must be a whole number from 1 to 36500, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

function stripZeros(hex: string): string {
  return hex.replace(/^0+/, "");
}
