import { request } from "node:http";
import { ServerProcess } from "@jobworker/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runjob } from "./testing/cli-harness.js";
import { UiProcess } from "./testing/ui-process.js";

const needsRoot = process.getuid?.() !== 0;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request to the ui server, with exactly these headers (fetch would not let a test set Host). */
function send(
  port: number,
  path: string,
  headers: Record<string, string>,
  method = "GET",
  body?: Buffer,
  address = "127.0.0.1",
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: address, port, path, method, headers, setHost: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

/** An empty ListJobs call framed as gRPC-Web (one uncompressed message of zero bytes). */
const EMPTY_GRPC_WEB_MESSAGE = Buffer.from([0, 0, 0, 0, 0]);
const LIST_JOBS = "/jobworker.v1.JobService/ListJobs";

describe.skipIf(needsRoot)("runjob ui guard: loopback, token, Host, no CORS (needs root: the server runs jobs)", () => {
  let server: ServerProcess;
  let ui: UiProcess;
  const answers: Answer[] = [];
  const sent = async (...args: Parameters<typeof send>) => {
    const answer = await send(...args);
    answers.push(answer);
    return answer;
  };
  const host = () => `127.0.0.1:${ui.port}`;
  const grpcWeb = (extra: Record<string, string> = {}) => ({
    host: host(),
    "content-type": "application/grpc-web+proto",
    "x-grpc-web": "1",
    ...extra,
  });

  beforeAll(async () => {
    server = await ServerProcess.start();
    ui = await UiProcess.start(server);
  });

  afterAll(async () => {
    await ui?.stop();
    await server?.dispose();
  });

  it("serves the page with the token in the URL, and sets the cookie its assets load with", async () => {
    const page = await sent(ui.port, `/?token=${ui.token}`, { host: host() });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script type="module" src="/app.js">');
    const cookie = String(page.headers["set-cookie"]);
    expect(cookie).toContain(`runjob_ui_token=${ui.token}`);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    const script = await sent(ui.port, "/app.js", { host: host(), cookie: `runjob_ui_token=${ui.token}` });
    expect(script.status).toBe(200);
    expect(script.headers["content-type"]).toContain("javascript");
    expect(script.body.length).toBeGreaterThan(10_000);
  });

  it("forwards a gRPC-Web call with the token to the server, as the context's identity", async () => {
    const started = await runjob(server, ["start", "--json", "--name", "guarded", "--", "/bin/true"]);
    expect(started.code, started.stderr).toBe(0);
    const answer = await sent(
      ui.port,
      LIST_JOBS,
      grpcWeb({ "x-runjob-ui-token": ui.token }),
      "POST",
      EMPTY_GRPC_WEB_MESSAGE,
    );
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toContain("application/grpc-web");
    expect(answer.body).toContain("guarded");
    expect(answer.body).toContain("alice");
    expect(answer.body).toMatch(/grpc-status: ?0\r\n/);
  });

  it("refuses the page, an asset and an API call without the token (401), or with a wrong one (403)", async () => {
    for (const path of ["/", "/app.js"]) {
      const answer = await sent(ui.port, path, { host: host() });
      expect(answer.status, path).toBe(401);
      expect(answer.body).toContain("token");
    }
    for (const [path, headers] of [
      ["/?token=wrong", {}],
      ["/app.js", { cookie: "runjob_ui_token=wrong" }],
      ["/", { "x-runjob-ui-token": ui.token.slice(1) }],
    ] as const) {
      const answer = await sent(ui.port, path, { host: host(), ...headers });
      expect(answer.status, path).toBe(403);
      expect(answer.body).toContain("not the token");
    }
    const noToken = await sent(ui.port, LIST_JOBS, grpcWeb(), "POST", EMPTY_GRPC_WEB_MESSAGE);
    expect(noToken.status).toBe(401);
    const wrong = await sent(
      ui.port,
      LIST_JOBS,
      grpcWeb({ "x-runjob-ui-token": "x".repeat(32) }),
      "POST",
      EMPTY_GRPC_WEB_MESSAGE,
    );
    expect(wrong.status).toBe(403);
    // The cookie opens the page's files, never the API: another site's form could send a cookie, not a header.
    const cookieOnly = await sent(
      ui.port,
      LIST_JOBS,
      grpcWeb({ cookie: `runjob_ui_token=${ui.token}` }),
      "POST",
      EMPTY_GRPC_WEB_MESSAGE,
    );
    expect(cookieOnly.status).toBe(401);
  });

  it("refuses another Host (DNS rebinding) and another Origin with 403, even with the token", async () => {
    for (const badHost of [`evil.example:${ui.port}`, "127.0.0.1", `127.0.0.1:${ui.port + 1}`, ""]) {
      const answer = await sent(ui.port, `/?token=${ui.token}`, { host: badHost });
      expect(answer.status, badHost).toBe(403);
    }
    const localhost = await sent(ui.port, `/?token=${ui.token}`, { host: `localhost:${ui.port}` });
    expect(localhost.status).toBe(200);
    const foreign = await sent(
      ui.port,
      LIST_JOBS,
      grpcWeb({ "x-runjob-ui-token": ui.token, origin: "http://evil.example" }),
      "POST",
      EMPTY_GRPC_WEB_MESSAGE,
    );
    expect(foreign.status).toBe(403);
  });

  it("answers a preflight, an unknown path and a wrong method with a clear 4xx", async () => {
    const preflight = await sent(
      ui.port,
      LIST_JOBS,
      {
        host: host(),
        origin: "http://evil.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "x-runjob-ui-token",
      },
      "OPTIONS",
    );
    expect(preflight.status).toBe(403);
    const unknown = await sent(ui.port, "/etc/passwd", { host: host(), "x-runjob-ui-token": ui.token });
    expect(unknown.status).toBe(404);
    const getApi = await sent(ui.port, LIST_JOBS, { host: host(), "x-runjob-ui-token": ui.token });
    expect(getApi.status).toBe(405);
  });

  it("never sends an Access-Control-Allow-Origin header", () => {
    expect(answers.length).toBeGreaterThan(10);
    for (const answer of answers) {
      expect(Object.keys(answer.headers).filter((name) => name.startsWith("access-control-"))).toEqual([]);
    }
  });

  it("--listen another loopback address: the URL names it, and its Host is accepted", async () => {
    const other = await UiProcess.start(server, { args: ["--listen", "127.0.0.2"] });
    try {
      expect(other.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+\/\?token=/);
      const page = await fetch(other.url);
      expect(page.status).toBe(200);
      const named = await send(
        other.port,
        `/?token=${other.token}`,
        { host: `evil.example:${other.port}` },
        "GET",
        undefined,
        "127.0.0.2",
      );
      expect(named.status).toBe(403);
    } finally {
      await other.stop();
    }
  });

  it("refuses to listen on a non-loopback address", async () => {
    for (const address of ["0.0.0.0", "192.168.1.10", "::"]) {
      const result = await runjob(server, ["ui", "--no-open", "--listen", address]);
      expect(result.code, address).toBe(125);
      expect(result.stderr).toContain("not a loopback address");
      expect(result.stderr).toContain("JW_ERR_USAGE");
    }
  });
});
