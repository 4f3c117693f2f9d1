import { X509Certificate } from "node:crypto";
import { type FSWatcher, readFileSync, watch } from "node:fs";
import type { Http2SecureServer, SecureServerOptions } from "node:http2";
import { basename, dirname } from "node:path";
import { createSecureContext } from "node:tls";
import type { Logger } from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import { ConfigError } from "../config.js";
import { tlsOptions } from "./tls-options.js";

/** The TLS files the server reads; `clientCrl` is "" when no CRL is configured. */
export interface TlsFiles {
  tlsCert: string;
  tlsKey: string;
  clientCa: string;
  clientCrl: string;
}

/** The server certificate expires within this: a warning in the log and on /metrics. */
export const EXPIRY_WARNING_MS = 30 * 86_400_000;
/** File events come in bursts (a cert, then its key): one reload after the burst settles. */
const SETTLE_MS = 200;
/** A changed file that does not load yet (its pair not yet written) is read once more after this. */
const RETRY_MS = 2_000;
/** How often the expiry warning is checked again while nothing changes. */
const EXPIRY_CHECK_MS = 12 * 3_600_000;

/** What was loaded, for the log and the metrics. */
export interface LoadedTls {
  subject: string;
  notAfter: Date;
  serial: string;
  clientCa: string[];
  crl: boolean;
}

/**
 * Keeps the API server's certificate, key, client CA and CRL current: reads
 * them at start (a file that cannot be read is a ConfigError naming its flag),
 * and again on SIGHUP (`reload`) or when a file changes. A reload swaps the
 * server's secure context: connections already open keep theirs and are never
 * dropped; new handshakes use the new files. Material that fails to load
 * (a cert that does not match its key, say) is logged and the old kept.
 */
export class TlsReloader {
  #options: SecureServerOptions;
  #loaded: LoadedTls;
  #fingerprint: string;
  #server: Http2SecureServer | undefined;
  #watchers: FSWatcher[] = [];
  #settle: NodeJS.Timeout | undefined;
  #expiryCheck: NodeJS.Timeout | undefined;
  readonly #metrics: { reloads: Counter<"result">; expiry: Gauge; expiring: Gauge } | undefined;

  private readonly files: TlsFiles;

  constructor(
    { tlsCert, tlsKey, clientCa, clientCrl }: TlsFiles,
    private readonly logger: Logger,
    registry?: Registry,
  ) {
    // Only these four: a whole ServerConfig may be passed, and every path in it would be watched.
    const files = { tlsCert, tlsKey, clientCa, clientCrl };
    this.files = files;
    const { options, loaded, fingerprint } = read(files);
    this.#options = options;
    this.#loaded = loaded;
    this.#fingerprint = fingerprint;
    this.#metrics = registry ? tlsMetrics(registry, () => this.#loaded) : undefined;
    this.#report("start");
  }

  /** The options the API server starts with. */
  get options(): SecureServerOptions {
    return this.#options;
  }

  /** The server certificate in use. */
  get loaded(): LoadedTls {
    return this.#loaded;
  }

  /** Starts watching the files' directories, reloading `server` when any of them changes. */
  attach(server: Http2SecureServer): void {
    this.#server = server;
    const dirs = new Set(
      Object.values(this.files)
        .filter(Boolean)
        .map((file) => dirname(file)),
    );
    const names = new Set(
      Object.values(this.files)
        .filter(Boolean)
        .map((file) => basename(file)),
    );
    for (const dir of dirs) {
      // The directory, not the files: an editor or `mv` replaces a file, and a watch on the old one goes deaf.
      const watcher = watch(dir, { persistent: false }, (_event, name) => {
        if (name === null || names.has(name) || name.startsWith("..")) this.#scheduleReload("file change", SETTLE_MS);
      });
      watcher.on("error", (error) =>
        this.logger.warn({ err: error, dir }, "TLS files: watch failed; SIGHUP still reloads"),
      );
      this.#watchers.push(watcher);
    }
    this.#expiryCheck = setInterval(() => this.#warnIfExpiring(), EXPIRY_CHECK_MS).unref();
  }

  /**
   * Reads the files again and, if they changed and load, makes new connections
   * use them. Returns whether the new material is in use (unchanged counts).
   */
  reload(reason: string): boolean {
    let next: ReturnType<typeof read>;
    try {
      next = read(this.files);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (reason === "file change") {
        // Halfway through a rotation (a new key, its certificate still to come): look again before calling it a failure.
        this.logger.info({ reason }, `TLS files changed but do not load yet, reading them again shortly: ${message}`);
        this.#scheduleReload("file change (again)", RETRY_MS);
        return false;
      }
      this.#metrics?.reloads.inc({ result: "failed" });
      this.logger.error({ reason }, `TLS reload failed, the previous certificates stay in use: ${message}`);
      return false;
    }
    if (next.fingerprint === this.#fingerprint) {
      // A change already picked up by the file watch, or a signal with nothing new: said, so a SIGHUP is never silent.
      if (!reason.startsWith("file change")) this.logger.info({ reason }, `TLS files unchanged (${reason})`);
      return true;
    }
    this.#server?.setSecureContext(next.options);
    this.#options = next.options;
    this.#loaded = next.loaded;
    this.#fingerprint = next.fingerprint;
    this.#metrics?.reloads.inc({ result: "ok" });
    this.#report(reason);
    return true;
  }

  /** Stops watching. */
  close(): void {
    for (const watcher of this.#watchers) watcher.close();
    this.#watchers = [];
    clearTimeout(this.#settle);
    clearInterval(this.#expiryCheck);
  }

  #scheduleReload(reason: string, delayMs: number): void {
    clearTimeout(this.#settle);
    this.#settle = setTimeout(() => this.reload(reason), delayMs).unref();
  }

  #report(reason: string): void {
    const { subject, notAfter, serial, clientCa, crl } = this.#loaded;
    this.logger.info(
      { reason, subject, notAfter: notAfter.toISOString(), serial, clientCa, crl },
      `TLS loaded (${reason}): server certificate ${subject}, expires ${notAfter.toISOString()}`,
    );
    this.#warnIfExpiring();
  }

  #warnIfExpiring(): void {
    const { subject, notAfter } = this.#loaded;
    const left = notAfter.getTime() - Date.now();
    if (left >= EXPIRY_WARNING_MS) return;
    const days = Math.max(0, Math.floor(left / 86_400_000));
    this.logger.warn(
      { subject, notAfter: notAfter.toISOString(), daysLeft: days },
      `the server certificate expires in ${days} day(s), on ${notAfter.toISOString()}: issue a new one ('jobworker-server pki issue --server …'), replace ${this.files.tlsCert} and ${this.files.tlsKey}, and the server loads it`,
    );
  }
}

/** Reads and checks every file: a secure context is built from them, so a cert that does not match its key fails here. */
function read(files: TlsFiles): { options: SecureServerOptions; loaded: LoadedTls; fingerprint: string } {
  const base = tlsOptions(files);
  const options: SecureServerOptions = files.clientCrl ? { ...base, crl: readCrl(files.clientCrl) } : base;
  try {
    createSecureContext(options);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(
      `the TLS files do not load together (${reason}): check that --tls-cert matches --tls-key and that --client-ca and --client-crl are PEM`,
    );
  }
  const certificate = new X509Certificate(bufferOf(options.cert));
  const loaded: LoadedTls = {
    subject: certificate.subject.replaceAll("\n", ", "),
    notAfter: new Date(certificate.validTo),
    serial: certificate.serialNumber,
    clientCa: caSubjects(bufferOf(options.ca)),
    crl: Boolean(files.clientCrl),
  };
  const fingerprint = [options.cert, options.key, options.ca, ...[options.crl ?? []].flat()]
    .map((b) => bufferOf(b).toString("base64"))
    .join();
  return { options, loaded, fingerprint };
}

/**
 * The CRLs in a PEM file, one buffer each: OpenSSL reads one CRL per buffer,
 * and while clients of two CAs are accepted (during a CA rotation) each CA
 * needs its own CRL, or its clients fail the check.
 */
function readCrl(path: string): Buffer[] {
  try {
    const pem = readFileSync(path, "latin1");
    const blocks = pem.match(/-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/g) ?? [];
    if (blocks.length === 0) throw new Error("no PEM CRL in it");
    return blocks.map((block) => Buffer.from(`${block}\n`, "latin1"));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(
      `--client-crl: cannot read ${path} (${reason}); point --client-crl at a PEM CRL ('jobworker-server pki init' writes one)`,
    );
  }
}

/** The subjects of the CA certificates in a PEM bundle. */
function caSubjects(pem: Buffer): string[] {
  const blocks = pem.toString("latin1").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block).subject.replaceAll("\n", ", "));
}

function bufferOf(value: unknown): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(typeof value === "string" ? value : "");
}

function tlsMetrics(registry: Registry, loaded: () => LoadedTls) {
  return {
    reloads: new Counter({
      name: "jobworker_tls_reloads_total",
      help: "TLS reloads (SIGHUP or a changed file), by result: ok, or failed (the previous files stay in use).",
      labelNames: ["result"],
      registers: [registry],
    }),
    expiry: new Gauge({
      name: "jobworker_tls_certificate_expiry_timestamp_seconds",
      help: "When the server certificate in use expires (Unix time).",
      registers: [registry],
      collect() {
        this.set(loaded().notAfter.getTime() / 1000);
      },
    }),
    expiring: new Gauge({
      name: "jobworker_tls_certificate_expiring",
      help: "1 when the server certificate in use expires within 30 days: replace it.",
      registers: [registry],
      collect() {
        this.set(loaded().notAfter.getTime() - Date.now() < EXPIRY_WARNING_MS ? 1 : 0);
      },
    }),
  };
}
