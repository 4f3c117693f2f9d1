import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { JobService } from "@jobworker/proto";
import type { JobClient } from "../connection/client.js";

type Call = (request: unknown, options: { signal: AbortSignal }) => unknown;

/**
 * JobService for the page: each unary and server-streaming method calls the
 * same method of the real server through `client` (mutual TLS, the current
 * context's key), so the browser never holds a key. The server's errors pass
 * through with their codes; a call the page abandons is cancelled upstream.
 * Client and bidi streams cannot run over gRPC-Web: the page uses
 * WriteJobInput and ResizeJobTerminal instead, and these answer UNIMPLEMENTED.
 */
export function forwardingRoutes(client: JobClient): (router: ConnectRouter) => void {
  const methods: Record<string, unknown> = {};
  for (const method of JobService.methods) {
    const call = (client as unknown as Record<string, Call>)[method.localName]!.bind(client);
    if (method.methodKind === "unary") {
      methods[method.localName] = (request: unknown, context: HandlerContext) =>
        call(request, { signal: context.signal });
    } else if (method.methodKind === "server_streaming") {
      methods[method.localName] = async function* (request: unknown, context: HandlerContext) {
        yield* call(request, { signal: context.signal }) as AsyncIterable<unknown>;
      };
    }
  }
  return (router) => router.service(JobService, methods);
}
