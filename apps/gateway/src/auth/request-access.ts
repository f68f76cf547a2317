import { currentAuthContext, type Principal, type Policy } from '@mcp-gateway/auth';

/**
 * Who made an HTTP request, as the authentication middleware found it. The middleware runs before every route and
 * records the principal against the raw `Request` object (the same object Hono hands to every sub-app), so route
 * factories stay free of Hono context types.
 */
const principals = new WeakMap<Request, Principal>();

/** Records the caller of `request` (the authentication middleware does this once per request). */
export function setRequestPrincipal(request: Request, principal: Principal): void {
  principals.set(request, principal);
}

/**
 * The caller of `request`, if the authentication middleware saw it. Middleware that replaces the raw request (Hono's
 * body limit re-wraps a streamed body) loses the record, so the auth context the middleware runs the rest of the
 * request in is the fallback.
 */
export function requestPrincipal(request: Request): Principal | undefined {
  return principals.get(request) ?? currentAuthContext()?.principal;
}

/**
 * What REST route factories need to authorize: the caller of a request and the policy. Routes check ownership
 * (update/delete of one entity, visibility of reads) themselves; the coarse role/scope check per route runs earlier,
 * in the authentication middleware.
 */
export interface RestAccess {
  /** The caller; in local mode (no auth configured) an anonymous admin. */
  principal(request: Request): Principal;
  policy: Policy;
}
