import type { HandlerContext, Interceptor } from "@connectrpc/connect";
import type { JobScope, OwnerQuota } from "@jobworker/core";
import { apiError } from "../api/errors.js";
import { type Identity, identityKey } from "./identity.js";

/**
 * Every role check the server makes lives in this module, for unary and
 * streaming RPCs alike: `authorize` refuses a certificate without a valid role
 * before any handler runs, and handlers get the jobs a caller may touch only
 * from the scope functions below. Core then answers not_found for any job
 * outside that scope, exactly as for a missing one.
 */
export const authorize: Interceptor = (next) => async (request) => {
  const identity = request.contextValues.get(identityKey);
  if ("refused" in identity) throw apiError("JW_ERR_NO_ROLE", `permission denied: ${identity.refused}`);
  return next(request);
};

/** The caller's verified identity. Handlers run only after `authorize` has accepted it. */
export function callerOf(context: HandlerContext): Extract<Identity, { name: string }> {
  const identity = context.values.get(identityKey);
  if ("refused" in identity) throw apiError("JW_ERR_NO_ROLE", "permission denied");
  return identity;
}

/** Which jobs the caller may touch: a user, their own; an admin, everyone's. */
export function scopeOf(context: HandlerContext): JobScope {
  const caller = callerOf(context);
  return caller.role === "admin" ? { allOwners: true } : { owner: caller.name };
}

/** The scope of a listing filtered to `owner` ("" for none): only an admin may name another owner. */
export function listScopeOf(context: HandlerContext, owner: string): JobScope {
  const caller = callerOf(context);
  if (owner && caller.role !== "admin" && owner !== caller.name) {
    throw apiError("JW_ERR_ADMIN_ONLY", "only an admin may list another owner's jobs");
  }
  return scopeOf(context);
}

/** The scope of a clean: the caller's own jobs, or with `allOwners` (admins only) everyone's. */
export function cleanScopeOf(context: HandlerContext, allOwners: boolean): JobScope {
  const caller = callerOf(context);
  if (!allOwners) return { owner: caller.name };
  if (caller.role !== "admin") throw apiError("JW_ERR_ADMIN_ONLY", "only an admin may clean every owner's jobs");
  return { allOwners: true };
}

/** The quotas the server gives each role. */
export interface RoleQuotas {
  user: OwnerQuota;
  admin: OwnerQuota;
}

/** The caller's quota: its role's. */
export function quotaOf(context: HandlerContext, quotas: RoleQuotas): OwnerQuota {
  return callerOf(context).role === "admin" ? quotas.admin : quotas.user;
}
