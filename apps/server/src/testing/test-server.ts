import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { type Authority, createAuthority, type Issued, issue } from "@jobworker/dev-pki";
import { JobService } from "@jobworker/proto";
import { testCgroupParent, testServerArgs, testStateDir } from "@jobworker/testkit";
import { type Logger, pino } from "pino";
import { loadConfig, type ServerConfig } from "../config.js";
import { type JobServer, startJobServer } from "../job-server.js";

export type JobClient = Client<typeof JobService>;

/** Every kind of client certificate the authorization tests need, from one test PKI. */
export interface TestPki {
  dir: string;
  ca: Authority;
  server: Issued;
  clients: Record<"alice" | "bob" | "admin" | "noUnit" | "twoUnits" | "capitalAdmin" | "expired" | "otherCa", Issued>;
}

export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp("/var/tmp/jobworker-test-pki-");
  const ca = await createAuthority("jobworker test CA");
  const other = await createAuthority("some other CA");
  const client = (commonName: string, organizationalUnits: string[]) =>
    issue(ca, { commonName, organizationalUnits, usage: "client" });
  const pki: TestPki = {
    dir,
    ca,
    server: await issue(ca, { commonName: "localhost", usage: "server", peer: true }),
    clients: {
      alice: await client("alice", ["user"]),
      bob: await client("bob", ["user"]),
      admin: await client("admin", ["admin"]),
      noUnit: await client("nobody", []),
      twoUnits: await client("greedy", ["user", "admin"]),
      capitalAdmin: await client("shouty", ["Admin"]),
      expired: await issue(ca, {
        commonName: "alice",
        organizationalUnits: ["user"],
        usage: "client",
        notBefore: new Date(Date.now() - 3 * 86_400_000),
        notAfter: new Date(Date.now() - 86_400_000),
      }),
      otherCa: await issue(other, { commonName: "alice", organizationalUnits: ["user"], usage: "client" }),
    },
  };
  await writeFile(join(dir, "ca.crt"), ca.cert);
  await writeFile(join(dir, "server.crt"), pki.server.cert);
  await writeFile(join(dir, "server.key"), pki.server.key, { mode: 0o600 });
  return pki;
}

/**
 * A real server in this process, for tests that look inside it (its streams,
 * its manager, its log). It runs with the same settings as testkit's
 * ServerProcess, on the test PKI. `restartOf` is an earlier server's config:
 * the new one takes over its state dir and cgroup parent, as a restart does.
 */
export async function startTestServer(
  pki: TestPki,
  restartOf?: Pick<ServerConfig, "stateDir" | "cgroupParent">,
  overrides: string[] = [],
  logger: Logger = pino({ level: "silent" }),
): Promise<{ server: JobServer; config: ServerConfig }> {
  const dirs = restartOf
    ? { stateDir: restartOf.stateDir, cgroupParent: restartOf.cgroupParent }
    : { stateDir: await testStateDir(), cgroupParent: testCgroupParent() };
  const config = loadConfig([...testServerArgs({ certs: pki.dir, ...dirs }), ...overrides], {});
  if (config === "help") throw new Error("unreachable");
  const server = await startJobServer(config, logger);
  return { server, config };
}

/** Stops every job, shuts the server down, removes its cgroup parent and state dir. */
export async function disposeTestServer(server: JobServer, config: ServerConfig): Promise<void> {
  await server.manager.clean({ allOwners: true });
  await server.close();
  await server.manager.removeCgroupParent();
  await rm(config.stateDir, { recursive: true, force: true });
}

/** A client of `server` authenticating with `identity` over mutual TLS (default: gRPC over HTTP/2). */
export function clientFor(
  server: JobServer,
  pki: TestPki,
  identity: Issued | undefined,
  {
    protocol = "grpc",
    httpVersion = "2",
    useBinaryFormat = true,
  }: { protocol?: "grpc" | "connect" | "grpc-web"; httpVersion?: "1.1" | "2"; useBinaryFormat?: boolean } = {},
): JobClient {
  const options = {
    baseUrl: `https://localhost:${server.address.port}`,
    nodeOptions: { ca: pki.ca.cert, cert: identity?.cert, key: identity?.key },
  };
  const transport =
    protocol === "grpc"
      ? createGrpcTransport({ ...options, useBinaryFormat })
      : protocol === "connect"
        ? createConnectTransport({ ...options, httpVersion, useBinaryFormat })
        : createGrpcWebTransport({ ...options, httpVersion, useBinaryFormat });
  return createClient(JobService, transport);
}

/** A test server on a fresh PKI, with clients for alice, bob and admin. */
export interface ServedTestServer {
  pki: TestPki;
  server: JobServer;
  config: ServerConfig;
  alice: JobClient;
  bob: JobClient;
  admin: JobClient;
  /** Stops every job and `server` (replace it after a restart), and removes its state and the PKI. */
  dispose(): Promise<void>;
}

/** startTestServer on a fresh PKI with `overrides`, and a client per dev identity. */
export async function startServedTestServer(overrides: string[] = []): Promise<ServedTestServer> {
  const pki = await createTestPki();
  const { server, config } = await startTestServer(pki, undefined, overrides);
  const served: ServedTestServer = {
    pki,
    server,
    config,
    alice: clientFor(server, pki, pki.clients.alice),
    bob: clientFor(server, pki, pki.clients.bob),
    admin: clientFor(server, pki, pki.clients.admin),
    async dispose() {
      await disposeTestServer(served.server, config);
      await rm(pki.dir, { recursive: true, force: true });
    },
  };
  return served;
}
