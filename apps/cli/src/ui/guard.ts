import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** The header the page sends its token in (apps/web/src/api.ts). */
export const TOKEN_HEADER = "x-runjob-ui-token";
/** The cookie set from the token when the page is opened, so its assets load with it. */
export const TOKEN_COOKIE = "runjob_ui_token";

/** Why a request is refused: an HTTP status and a line saying what to do. */
export interface Refusal {
  status: number;
  message: string;
}

function sameSecret(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookie(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}

/**
 * Whether a request may reach the page or the API: the Host header must name
 * this server by its loopback address or localhost, with its port (a DNS-rebinding page has its own name
 * there), a browser's Origin must be this server, and the request must carry
 * the token: in the header (API calls: another site cannot set it without a
 * CORS preflight, which is never granted), or for the page and its assets in
 * the URL or the cookie set from it.
 */
export function refusal(
  request: IncomingMessage,
  address: { host: string; port: number },
  token: string,
  api: boolean,
): Refusal | undefined {
  const { host, port } = address;
  const allowedHosts = [...new Set([`${host}:${port}`, `127.0.0.1:${port}`, `localhost:${port}`])];
  if (!allowedHosts.includes(request.headers.host ?? "")) {
    return {
      status: 403,
      message: `runjob ui answers only to http://${host}:${port}/ (the Host header was ${JSON.stringify(request.headers.host ?? "")})`,
    };
  }
  const origin = request.headers.origin;
  if (origin !== undefined && !allowedHosts.some((host) => origin === `http://${host}`)) {
    return { status: 403, message: `runjob ui does not answer pages from ${origin}` };
  }
  const header = request.headers[TOKEN_HEADER];
  const fromHeader = typeof header === "string" ? header : undefined;
  const fromUrl = new URL(request.url ?? "/", "http://localhost").searchParams.get("token") ?? undefined;
  const ok = api
    ? sameSecret(fromHeader, token)
    : [fromHeader, fromUrl, cookie(request, TOKEN_COOKIE)].some((given) => sameSecret(given, token));
  if (!ok) {
    // None at all is 401 (log in: open the printed URL); a token that is not this process's is 403.
    const given = api ? [fromHeader] : [fromHeader, fromUrl, cookie(request, TOKEN_COOKIE)];
    const none = given.every((value) => value === undefined);
    return {
      status: none ? 401 : 403,
      message: none
        ? "this needs the token 'runjob ui' printed: open the URL it printed (with ?token=…)"
        : "this is not the token this 'runjob ui' printed (each run makes a new one): open the URL it printed",
    };
  }
  return undefined;
}
