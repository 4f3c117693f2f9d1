import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { grpcHealthV1 } from "@jobworker/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServedTestServer, startServedTestServer } from "../testing/test-server.js";

const run = promisify(execFile);
/** buf from the @bufbuild/buf devDependency: a real gRPC client that knows nothing of jobworker's protos. */
const BUF = new URL("../../../../node_modules/.bin/buf", import.meta.url).pathname;
const ServingStatus = grpcHealthV1.HealthCheckResponse_ServingStatus;

describe("health and reflection on the API port", () => {
  let served: ServedTestServer;
  let tlsFlags: string[];
  let baseUrl: string;

  beforeAll(async () => {
    served = await startServedTestServer();
    const { dir, clients } = served.pki;
    await writeFile(join(dir, "alice.crt"), clients.alice.cert);
    await writeFile(join(dir, "alice.key"), clients.alice.key, { mode: 0o600 });
    tlsFlags = ["--cacert", join(dir, "ca.crt"), "--cert", join(dir, "alice.crt"), "--key", join(dir, "alice.key")];
    baseUrl = `https://localhost:${served.server.address.port}`;
  });

  afterAll(async () => {
    await served?.dispose();
  });

  function healthClient() {
    const { pki, server } = served;
    return createClient(
      grpcHealthV1.Health,
      createGrpcTransport({
        baseUrl: `https://localhost:${server.address.port}`,
        nodeOptions: { ca: pki.ca.cert, cert: pki.clients.alice.cert, key: pki.clients.alice.key },
      }),
    );
  }

  it("buf curl --list-services, through reflection, lists the job service, health and reflection", async () => {
    const { stdout } = await run(BUF, ["curl", ...tlsFlags, "--list-services", baseUrl], { timeout: 30_000 });
    expect(stdout.split("\n").filter(Boolean).sort()).toEqual([
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "jobworker.v1.JobService",
    ]);
  });

  it.each(["v1", "v1alpha"])("buf curl calls an RPC it learned of by reflection %s alone", async (version) => {
    const { stdout } = await run(
      BUF,
      [
        "curl",
        ...tlsFlags,
        "--protocol",
        "grpc",
        `--reflect-protocol=grpc-${version}`,
        "--data",
        '{"service":"jobworker.v1.JobService"}',
        `${baseUrl}/grpc.health.v1.Health/Check`,
      ],
      { timeout: 30_000 },
    );
    expect(JSON.parse(stdout)).toEqual({ status: "SERVING" });
  });

  it("buf curl describes a job RPC's request, imports and all, from reflection", async () => {
    const { stdout } = await run(
      BUF,
      ["curl", ...tlsFlags, "--protocol", "grpc", "--data", "{}", `${baseUrl}/jobworker.v1.JobService/ListJobs`],
      { timeout: 30_000 },
    );
    expect(JSON.parse(stdout)).toEqual({});
  });

  it("Check answers SERVING for the server and its services, NOT_FOUND for an unknown one", async () => {
    const health = healthClient();
    expect((await health.check({ service: "" })).status).toBe(ServingStatus.SERVING);
    expect((await health.check({ service: "jobworker.v1.JobService" })).status).toBe(ServingStatus.SERVING);
    await expect(health.check({ service: "no.such.Service" })).rejects.toMatchObject({ code: 5 });
  });

  it("Watch sends the status at once and NOT_SERVING when the server begins to shut down", async () => {
    const stream = healthClient().watch({ service: "" })[Symbol.asyncIterator]();
    expect((await stream.next()).value?.status).toBe(ServingStatus.SERVING);
    const statuses: number[] = [];
    const rest = (async () => {
      for (let next = await stream.next(); !next.done; next = await stream.next()) statuses.push(next.value.status);
    })().catch(() => {});
    const { server, config } = served;
    // A restart on the same state: the watcher hears NOT_SERVING before its stream ends.
    await server.close();
    await rest;
    expect(statuses).toEqual([ServingStatus.NOT_SERVING]);
    const { startTestServer } = await import("../testing/test-server.js");
    served.server = (await startTestServer(served.pki, config)).server;
  });
});
