// Who fails the TLS handshake, and the alert each is told why with, as Python's ssl
// module (OpenSSL) reports it.
//
// A certificate that is presented but fails verification (another CA, expired) is
// refused without an alert: Node's TLS layer lets OpenSSL finish the handshake
// whatever the verification found (its verify callback accepts everything) and then
// destroys the socket, and offers no way to send an alert. Those two cases pin the
// refusal itself and the bare close; docs/api.md says what a client sees.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InteropServer, startInteropServer } from "./interop-server.js";
import { runPython } from "./python-client.js";

let server: InteropServer;
beforeAll(async () => {
  server = await startInteropServer();
});
afterAll(async () => {
  await server?.dispose();
});

type Refusal = { alert: string | null; accepted: boolean; closed?: string };
const handshake = (args: { identity?: string; version?: string }) =>
  runPython<Refusal>(server.python(), "tls-refusal", args);

describe("TLS refusals", () => {
  it("a client with a valid certificate is accepted (the probe itself works)", async () => {
    expect(await handshake({ identity: "alice" })).toEqual({ alert: null, accepted: true });
  });

  it("no certificate: certificate_required", async () => {
    expect(await handshake({})).toMatchObject({ alert: "TLSV13_ALERT_CERTIFICATE_REQUIRED", accepted: false });
  });

  it.each([
    ["from another CA", "stranger"],
    ["that has expired", "expired"],
  ])(
    "a certificate %s: refused, the connection closed without an alert (Node cannot send one)",
    async (_what, identity) => {
      const refusal = await handshake({ identity });
      expect(refusal.accepted).toBe(false);
      expect(refusal.alert).toBeNull();
    },
  );

  it("TLS 1.2: protocol_version", async () => {
    expect(await handshake({ identity: "alice", version: "TLSv1_2" })).toMatchObject({
      alert: "TLSV1_ALERT_PROTOCOL_VERSION",
      accepted: false,
    });
  });
});
