import { Code, ConnectError, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import type { JobScope } from "@jobworker/core";
import { type Identity, identityKey } from "./identity.js";

/**
 * The one place authorization happens, for unary and streaming RPCs alike:
 * every call from a certificate without a valid role is refused before any
 * handler runs.
 */
export const authorize: Interceptor = (next) => async (request) => {
  const identity = request.contextValues.get(identityKey);
  if ("refused" in identity) throw new ConnectError(`permission denied: ${identity.refused}`, Code.PermissionDenied);
  return next(request);
};

/** The caller's verified identity. Handlers run only after `authorize` has accepted it. */
export function callerOf(context: HandlerContext): Extract<Identity, { name: string }> {
  const identity = context.values.get(identityKey);
  if ("refused" in identity) throw new ConnectError("permission denied", Code.PermissionDenied);
  return identity;
}

/**
 * Which jobs the caller may touch: a user, their own; an admin, everyone's.
 * Core returns not_found for a job outside the scope, exactly as for a missing one.
 */
export function scopeOf(context: HandlerContext): JobScope {
  const caller = callerOf(context);
  return caller.role === "admin" ? { allOwners: true } : { owner: caller.name };
}
