import { AsyncLocalStorage } from 'node:async_hooks';

/** How a caller proved who it is. */
export type PrincipalKind = 'user' | 'token' | 'jwt' | 'anonymous';

/**
 * Who is calling, as every other part of the package sees it. `scopes` limit what a token may do (`*` means no
 * limit); `virtualServers`, when present, are the only virtual servers an API token may be used on.
 */
export interface Principal {
  /** The user id (API tokens act as their owner), the JWT `sub`, or `anonymous`. */
  readonly id: string;
  readonly kind: PrincipalKind;
  readonly teams: readonly string[];
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  readonly virtualServers?: readonly string[];
  /** Verified JWT claims, or `{ tokenId, tokenName }` for an API token. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** Why a request was refused: the HTTP status, the `WWW-Authenticate` value to send, and a message for people. */
export interface AuthFailure {
  readonly status: 401 | 403;
  /** RFC 6750 error code; absent when the request carried no credentials at all. */
  readonly error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
  readonly message: string;
  readonly wwwAuthenticate: string;
  /** The scopes the request needed (for `insufficient_scope`). */
  readonly scope?: readonly string[];
}

/** True when `result` is a refusal rather than a principal. */
export function isAuthFailure(result: Principal | AuthFailure): result is AuthFailure {
  return 'status' in result;
}

/** True when the principal's scopes include every one of `required` (`*` grants all). */
export function hasScopes(principal: Principal, required: readonly string[]): boolean {
  if (principal.scopes.includes('*')) return true;
  return required.every((scope) => principal.scopes.includes(scope));
}

/** The principal of a request with no credentials, when anonymous access is allowed. */
export function anonymousPrincipal(
  grants: { roles?: readonly string[]; teams?: readonly string[]; scopes?: readonly string[] } = {},
): Principal {
  return {
    id: 'anonymous',
    kind: 'anonymous',
    roles: [...(grants.roles ?? [])],
    teams: [...(grants.teams ?? [])],
    scopes: [...(grants.scopes ?? [])],
  };
}

/** What the call path knows about the request being served: who calls, and through which virtual server. */
export interface AuthContext {
  readonly principal: Principal;
  /** The virtual server the request arrived on; absent on the gateway's own endpoint. */
  readonly virtualServerId?: string;
}

const storage = new AsyncLocalStorage<AuthContext>();

/**
 * Runs `fn` with `context` as the current auth context. The HTTP layer wraps each MCP request in it, so router hooks
 * (which only see a `CallInfo`) can find the caller with {@link currentAuthContext}.
 */
export function runWithAuthContext<T>(context: AuthContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The auth context of the request being served, if the HTTP layer set one. */
export function currentAuthContext(): AuthContext | undefined {
  return storage.getStore();
}
