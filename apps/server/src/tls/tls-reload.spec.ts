import { EventEmitter, once } from "node:events";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { createSecureServer } from "node:http2";
import { join } from "node:path";
import { createAuthority, type Issued, issue } from "@jobworker/dev-pki";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TlsReloader } from "./tls-reload.js";

const DAY_MS = 86_400_000;

describe("TlsReloader", () => {
  let dir: string;
  let lines: Record<string, unknown>[];
  let ca: Awaited<ReturnType<typeof createAuthority>>;

  beforeEach(async () => {
    dir = await mkdtemp("/var/tmp/jobworker-test-tls-");
    lines = [];
    ca = await createAuthority("expiry CA");
    await writeFile(join(dir, "ca.crt"), ca.cert);
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function serverCert(days: number): Promise<Issued> {
    const pair = await issue(ca, {
      commonName: "localhost",
      usage: "server",
      notAfter: new Date(Date.now() + days * DAY_MS),
    });
    await writeFile(join(dir, "server.crt"), pair.cert);
    await writeFile(join(dir, "server.key"), pair.key, { mode: 0o600 });
    return pair;
  }

  const logged = new EventEmitter();

  function reloader(registry = new Registry()) {
    const logger = pino(
      { level: "info" },
      {
        write: (line: string) => {
          lines.push(JSON.parse(line));
          logged.emit("line", JSON.parse(line));
        },
      },
    );
    const files = {
      tlsCert: join(dir, "server.crt"),
      tlsKey: join(dir, "server.key"),
      clientCa: join(dir, "ca.crt"),
      clientCrl: "",
    };
    return { tls: new TlsReloader(files, logger, registry), registry };
  }

  const gauge = async (registry: Registry, name: string) =>
    (await registry.getSingleMetric(name)?.get())?.values[0]?.value;

  it("logs what it loaded: the server certificate's subject and expiry, and the client CAs", async () => {
    const pair = await serverCert(200);
    reloader();
    expect(lines).toEqual([
      expect.objectContaining({
        reason: "start",
        subject: "CN=localhost",
        serial: pair.serial?.toUpperCase(),
        clientCa: ["CN=expiry CA"],
        crl: false,
        notAfter: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      }),
    ]);
    expect(lines.some((line) => line.level === 40)).toBe(false);
  });

  it("warns in the log and on /metrics when the server certificate expires within 30 days", async () => {
    await serverCert(10);
    const { registry } = reloader();
    const warning = lines.find((line) => line.level === 40);
    expect(warning).toMatchObject({ daysLeft: 9, subject: "CN=localhost" });
    expect(String(warning?.msg)).toMatch(/expires in 9 day\(s\).*pki issue --server/);
    expect(await gauge(registry, "jobworker_tls_certificate_expiring")).toBe(1);
    expect(await gauge(registry, "jobworker_tls_certificate_expiry_timestamp_seconds")).toBeGreaterThan(
      Date.now() / 1000,
    );
  });

  it("a certificate with more than 30 days left is not flagged", async () => {
    await serverCert(31);
    const { registry } = reloader();
    expect(await gauge(registry, "jobworker_tls_certificate_expiring")).toBe(0);
  });

  it("a reload of a key that does not match keeps the old material and counts the failure", async () => {
    await serverCert(200);
    const { tls, registry } = reloader();
    const before = tls.loaded.serial;
    const other = await issue(ca, { commonName: "localhost", usage: "server" });
    await writeFile(join(dir, "server.key"), other.key);
    expect(tls.reload("SIGHUP")).toBe(false);
    expect(tls.loaded.serial).toBe(before);
    expect(lines.at(-1)).toMatchObject({ level: 50, msg: expect.stringMatching(/key values mismatch/) });
    const reloads = await registry.getSingleMetric("jobworker_tls_reloads_total")?.get();
    expect(reloads?.values).toEqual([expect.objectContaining({ labels: { result: "failed" }, value: 1 })]);
    tls.close();
  });

  it("a rotation written file by file (a new key, then its certificate) loads once complete, with no failure", async () => {
    await serverCert(200);
    const { tls, registry } = reloader();
    const server = createSecureServer(tls.options);
    tls.attach(server);
    try {
      const next = await issue(ca, { commonName: "localhost", usage: "server" });
      const loaded = new Promise<Record<string, unknown>>((resolve) => {
        const listener = (line: Record<string, unknown>) => {
          if (!String(line.msg).startsWith("TLS loaded")) return;
          logged.off("line", listener);
          resolve(line);
        };
        logged.on("line", listener);
      });
      // The key alone first: it does not match the certificate in place yet.
      await writeFile(join(dir, "server.key.new"), next.key, { mode: 0o600 });
      await rename(join(dir, "server.key.new"), join(dir, "server.key"));
      await once(logged, "line"); // "…do not load yet, reading them again shortly"
      await writeFile(join(dir, "server.crt.new"), next.cert);
      await rename(join(dir, "server.crt.new"), join(dir, "server.crt"));
      expect(await loaded).toMatchObject({ serial: next.serial?.toUpperCase() });
      expect(lines.filter((line) => line.level === 50)).toEqual([]);
      const reloads = await registry.getSingleMetric("jobworker_tls_reloads_total")?.get();
      expect(reloads?.values).toEqual([expect.objectContaining({ labels: { result: "ok" }, value: 1 })]);
    } finally {
      tls.close();
    }
  });
});
