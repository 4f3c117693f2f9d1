import { createAuthority, issue } from "@jobworker/dev-pki";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../config.js";
import { checkPeerCertificate } from "./peer-certificate.js";

describe("a fleet server's own certificate", () => {
  it("is accepted as a peer certificate when it carries OU jobworker-server and clientAuth", async () => {
    const ca = await createAuthority("test CA");
    expect(() => checkPeerCertificate(Buffer.from(""))).toThrow();
    const peer = await issue(ca, { commonName: "localhost", usage: "server", peer: true });
    expect(() => checkPeerCertificate(peer.cert)).not.toThrow();
  });

  it("is refused, saying how to issue one, when it is a plain server certificate or a user's", async () => {
    const ca = await createAuthority("test CA");
    const plain = await issue(ca, { commonName: "localhost", usage: "server" });
    const user = await issue(ca, { commonName: "mallory", usage: "client", organizationalUnits: ["user"] });
    for (const pem of [plain.cert, user.cert]) {
      expect(() => checkPeerCertificate(pem)).toThrow(ConfigError);
      expect(() => checkPeerCertificate(pem)).toThrow(/pki issue --server/);
    }
  });
});
