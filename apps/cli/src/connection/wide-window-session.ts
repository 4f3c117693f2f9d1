import type * as http2 from "node:http2";
import { Http2SessionManager } from "@connectrpc/connect-node";

/**
 * Receive window for streamed output: HTTP/2's default of 64 KiB caps a stream
 * at a few round trips' worth. It is also what a client behind a slow reader
 * (`runjob logs | sha256sum`) holds: 32 MiB put its peak RSS near 180 MiB for a
 * 1 GiB log, 8 MiB near 150 MiB, with loopback throughput unchanged.
 */
const WINDOW_BYTES = 8 * 2 ** 20;

/** Largest DATA frame the server may send: each frame costs a callback here, whatever its size. */
const MAX_FRAME_BYTES = 2 ** 20;

/** HTTP/2 settings that let the server send output without waiting on window updates, in large frames. */
export const WIDE_WINDOW_SETTINGS: http2.Settings = { initialWindowSize: WINDOW_BYTES, maxFrameSize: MAX_FRAME_BYTES };

/**
 * An HTTP/2 session manager whose connections also get a wide connection-level
 * window: the per-stream setting alone leaves the connection at 64 KiB, which
 * throttles StreamOutput to a fraction of what TLS on the link can carry.
 */
export class WideWindowSessionManager extends Http2SessionManager {
  private readonly widened = new WeakSet<http2.Http2Session>();

  /** `onCallSent` hears of every call that reached the server over an open connection. */
  constructor(
    url: string | URL,
    pingOptions: ConstructorParameters<typeof Http2SessionManager>[1],
    http2SessionOptions: ConstructorParameters<typeof Http2SessionManager>[2],
    private readonly onCallSent: () => void = () => {},
  ) {
    super(url, pingOptions, http2SessionOptions);
  }

  override async request(
    method: string,
    path: string,
    headers: http2.OutgoingHttpHeaders,
    options: Omit<http2.ClientSessionRequestOptions, "signal">,
  ): Promise<http2.ClientHttp2Stream> {
    const stream = await super.request(method, path, headers, options);
    const session = stream.session;
    if (session && !this.widened.has(session)) {
      this.widened.add(session);
      session.setLocalWindowSize(WINDOW_BYTES);
    }
    this.onCallSent();
    return stream;
  }
}
