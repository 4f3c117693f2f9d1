import { EventEmitter } from "node:events";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { JobService } from "@jobworker/proto";
import {
  installTestCa,
  makeTestCa,
  metricValue,
  replaceFile,
  ServerProcess,
  type TestCa,
  testCrl,
} from "@jobworker/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tryHandshake } from "../testing/handshake.js";

const WAIT_MS = 20_000;

describe("certificate rotation and revocation on a running server", () => {
  const log = new EventEmitter();
  let first: TestCa;
  let second: TestCa;
  let server: ServerProcess;

  beforeAll(async () => {
    first = await makeTestCa("rotation CA one", ["alice", "mallory"]);
    second = await makeTestCa("rotation CA two", ["carol", "dave"]);
    server = await ServerProcess.start({
      writePki: (dir) => installTestCa(dir, first),
      onLog: (entry) => log.emit("entry", entry),
      args: (certs) => ["--client-crl", join(certs, "crl.pem")],
    });
  });

  afterAll(async () => {
    await server?.dispose();
  });

  /** Resolves with the next log entry `match` accepts; fails the test after WAIT_MS. */
  function nextLog(match: (entry: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        log.off("entry", listener);
        reject(new Error("the awaited log line did not come"));
      }, WAIT_MS);
      const listener = (entry: Record<string, unknown>) => {
        if (!match(entry)) return;
        clearTimeout(timer);
        log.off("entry", listener);
        resolve(entry);
      };
      log.on("entry", listener);
    });
  }

  function clientOf(pki: TestCa, name: string) {
    const identity = pki.clients[name];
    return createClient(
      JobService,
      createGrpcTransport({
        baseUrl: `https://localhost:${server.port}`,
        nodeOptions: { ca: pki.ca.cert, cert: identity?.cert, key: identity?.key },
      }),
    );
  }

  const handshake = (pki: TestCa, name: string) =>
    tryHandshake(server.port, pki.ca.cert, { cert: pki.clients[name]?.cert, key: pki.clients[name]?.key });

  it("rotates the server certificate and client CA on SIGHUP and refuses a revoked client, while a follower keeps streaming", async () => {
    const alice = clientOf(first, "alice");
    const { job } = await alice.startJob({
      command: "/bin/sh",
      args: ["-c", "while :; do echo tick; sleep 0.1; done"],
    });
    const id = job?.id ?? "";
    const follower = alice.streamOutput({ id, follow: true })[Symbol.asyncIterator]();
    let received = 0;
    const readSome = async () => {
      const before = received;
      while (received <= before) {
        const next = await follower.next();
        if (next.done) throw new Error("the follower's stream ended");
        received += next.value.data.length;
      }
    };
    await readSome();
    expect((await handshake(first, "mallory")).result).toBe("accepted");

    // Revoke mallory: SIGHUP loads the new CRL.
    // The file watch may see the new files first: then the SIGHUP finds them unchanged, and says so.
    const revoked = nextLog((entry) => entry.reason === "SIGHUP");
    await installTestCa(server.certs, first, [first.clients.mallory!]);
    server.child.kill("SIGHUP");
    await revoked;
    expect((await handshake(first, "mallory")).result).toMatch(/^refused/);
    expect((await handshake(first, "alice")).result).toBe("accepted");
    await readSome();

    // A CA rotation, step one: both CAs trusted, each with its CRL, the server certificate from the new CA.
    const both = nextLog((entry) => Array.isArray(entry.clientCa) && entry.clientCa.length === 2);
    await replaceFile(join(server.certs, "server.key"), second.server.key, 0o600);
    await replaceFile(join(server.certs, "server.crt"), second.server.cert);
    await replaceFile(join(server.certs, "ca.crt"), first.ca.cert + second.ca.cert);
    await replaceFile(
      join(server.certs, "crl.pem"),
      (await testCrl(first, [first.clients.mallory!])) + (await testCrl(second)),
    );
    server.child.kill("SIGHUP");
    await both;
    expect((await tryHandshake(server.port, second.ca.cert, first.clients.alice!)).result).toBe("accepted");
    expect((await tryHandshake(server.port, second.ca.cert, first.clients.mallory!)).result).toMatch(/^refused/);
    expect((await handshake(second, "carol")).result).toBe("accepted");

    // Step two: the old CA goes: its clients are refused, the new ones accepted, the follower goes on.
    const loaded = nextLog((entry) => entry.serial === second.server.serial?.toUpperCase());
    const hup = nextLog((entry) => entry.reason === "SIGHUP");
    await installTestCa(server.certs, second);
    server.child.kill("SIGHUP");
    await hup;
    expect(await loaded).toMatchObject({ subject: "CN=localhost", clientCa: ["CN=rotation CA two"], crl: true });
    const carol = await handshake(second, "carol");
    expect(carol).toEqual({ result: "accepted", serverSerial: second.server.serial?.toUpperCase() });
    expect((await handshake(first, "alice")).result).toMatch(/^refused/);
    expect((await clientOf(second, "carol").listJobs({})).jobs).toEqual([]);
    await readSome();

    // A changed file is enough, with no signal: revoke carol by writing the CRL alone.
    const changed = nextLog(
      (entry) => String(entry.reason).startsWith("file change") && String(entry.msg).startsWith("TLS loaded"),
    );
    await replaceFile(join(server.certs, "crl.pem"), await testCrl(second, [second.clients.carol!]));
    await changed;
    expect((await handshake(second, "carol")).result).toMatch(/^refused/);
    expect((await handshake(second, "dave")).result).toBe("accepted");

    // The follower's connection was never dropped: it still streams, and ends when the job does.
    await readSome();
    // alice's calls still go over her connection from before the rotation.
    await alice.stopJob({ id });
    for (let next = await follower.next(); !next.done; next = await follower.next()) received += next.value.data.length;
    expect(received).toBeGreaterThan(0);
    const metrics = await server.metrics();
    expect(metricValue(metrics, 'jobworker_tls_reloads_total\\{result="ok"\\}')).toBeGreaterThanOrEqual(3);
  });

  it("a reload that fails keeps the certificates in use and says so", async () => {
    const failed = nextLog((entry) => entry.level === 50 && String(entry.msg).startsWith("TLS reload failed"));
    await replaceFile(join(server.certs, "server.key"), first.server.key, 0o600); // does not match server.crt
    server.child.kill("SIGHUP");
    await failed;
    expect((await handshake(second, "dave")).result).toBe("accepted");
    await replaceFile(join(server.certs, "server.key"), second.server.key, 0o600);
  });
});
