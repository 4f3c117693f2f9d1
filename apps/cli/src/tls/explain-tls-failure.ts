import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConnectError } from "@connectrpc/connect";
import { CliError } from "../cli-error.js";
import type { ConnectionSettings } from "../connection/settings.js";
import { loadClientCredentials } from "./client-credentials.js";
import { probeHandshake } from "./probe-handshake.js";

/** OpenSSL's names for "the issuer of the server's certificate is not among the CAs given". */
const UNKNOWN_ISSUER = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_SIGNATURE_FAILURE",
]);

/** How a connection that ended before any answer shows up: a reset, a cancelled stream, a hang-up. */
const BARE_CLOSE =
  /CANCEL|ECONNRESET|socket hang up|disconnected before secure TLS|ERR_HTTP2_(SESSION_ERROR|GOAWAY|STREAM_CANCEL)|EPIPE/;

/**
 * The one line a TLS failure deserves, or undefined when `error` is not one:
 * the server's certificate named by its problem (hostname, unknown CA,
 * expired), and the server's refusal of ours (an alert, or a bare close right
 * after the handshake, which a probe connection tells apart) as
 * "the server did not accept this client certificate".
 */
export async function explainTlsFailure(error: unknown, settings: ConnectionSettings): Promise<CliError | undefined> {
  if (!(error instanceof ConnectError)) return undefined;
  const cause = nodeCause(error);
  const code = cause?.code ?? "";
  const server = settings.server;
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    const names = cause?.cert?.subjectaltname ?? "no names";
    return new CliError(
      "JW_ERR_TLS",
      `the server's certificate is not valid for the name ${cause?.host ?? server} (it names ${names}): connect with one of those names (--server), or ask its operator for a certificate that names ${cause?.host ?? "this host"}`,
    );
  }
  if (UNKNOWN_ISSUER.has(code)) {
    return new CliError(
      "JW_ERR_TLS",
      `the server's certificate at ${server} was not issued by the CA in ${settings.ca} (${code}): pass the CA that issued the server's certificate as --ca, or pick the context made for this server (-c)`,
    );
  }
  if (code === "CERT_HAS_EXPIRED") {
    return new CliError(
      "JW_ERR_TLS",
      `the server's certificate at ${server} has expired: its operator must renew it; nothing on this side can fix that`,
    );
  }
  if (code === "CERT_NOT_YET_VALID") {
    return new CliError(
      "JW_ERR_TLS",
      `the server's certificate at ${server} is not valid yet: check this machine's clock (and the server's)`,
    );
  }
  if (/ALERT/.test(code) || /alert/i.test(cause?.message ?? "")) return refused(settings);
  if (BARE_CLOSE.test(`${code} ${error.rawMessage} ${cause?.message ?? ""}`)) {
    const verdict = await probeHandshake(server, loadClientCredentials(settings)).catch(() => "unknown" as const);
    if (verdict === "refused") return refused(settings);
  }
  return undefined;
}

function refused(settings: ConnectionSettings): CliError {
  return new CliError(
    "JW_ERR_TLS",
    `the server at ${settings.server} did not accept this client certificate (unknown CA, expired or revoked): ${settings.cert}${subjectOf(settings.cert)} is not trusted there; ask the server's operator for a certificate it trusts, or pick another context (-c)`,
  );
}

interface NodeTlsError {
  code?: string;
  message?: string;
  host?: string;
  cert?: { subjectaltname?: string };
}

/** The Node error under a ConnectError, however deep Connect wrapped it. */
function nodeCause(error: ConnectError): NodeTlsError | undefined {
  let cause: unknown = error.cause;
  for (let depth = 0; depth < 5 && cause instanceof Error; depth++) {
    if ("code" in cause && typeof cause.code === "string") return cause as NodeTlsError;
    cause = cause.cause;
  }
  return undefined;
}

function subjectOf(path: string): string {
  try {
    return ` (${new X509Certificate(readFileSync(path)).subject.split("\n").join(", ")})`;
  } catch {
    return "";
  }
}
