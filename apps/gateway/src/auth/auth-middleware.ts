import type { MiddlewareHandler } from 'hono';
import {
  ADMIN_SCOPES,
  anonymousPrincipal,
  hasScopes,
  isAuthFailure,
  ROLES,
  runWithAuthContext,
  type AdminAction,
  type Principal,
} from '@mcp-gateway/auth';
import { restErrorResponse } from '../http/rest-error.ts';
import type { GatewayAuth, Ownership } from './gateway-auth.ts';
import { setRequestPrincipal } from './request-access.ts';

/** Options of {@link createAuthMiddleware}. */
export interface AuthMiddlewareOptions {
  auth: GatewayAuth;
  /** The gateway's external base URL (`--public-url`, else the address it listens on). */
  baseUrl: () => string;
  /** Ownership of a virtual server, or undefined when there is no such (enabled) server. */
  virtualServer: (id: string) => Partial<NonNullable<Ownership>> | undefined;
  /** Runs the rest of an MCP request inside per-request context (inbound headers for upstream passthrough). */
  aroundMcp?: <T>(request: Request, next: () => Promise<T>) => Promise<T>;
}

/** Paths anyone may read: liveness, readiness, API docs and the OAuth metadata clients need before they have a token. */
const PUBLIC_PATH = /^\/(health|ready|docs|openapi\.json)$|^\/\.well-known\//;

/** MCP endpoints: the gateway's own and each virtual server's. */
const MCP_PATH = /^\/(mcp|sse|message|rpc|ws)$|^\/servers\/([^/]+)\/(mcp|sse|message|ws)$/;

/** What each REST path acts on, for the role and scope check before any route runs. */
const REST_TYPES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^\/v1\/gateways(\/|$)/, 'gateway'],
  [/^\/v1\/tools\/[^/]+\/approve$/, 'tool-pin'],
  [/^\/v1\/tool-pins(\/|$)/, 'tool-pin'],
  [/^\/v1\/(tools|tags|openapi)(\/|$)/, 'tool'],
  [/^\/v1\/prompts(\/|$)/, 'prompt'],
  [/^\/v1\/resources(\/|$)/, 'resource'],
  [/^\/v1\/servers(\/|$)/, 'virtual-server'],
  [/^\/v1\/(config|audit)(\/|$)/, 'settings'],
  [/^\/v1\/stats(\/|$)/, 'gateway'],
  [/^\/v1\/tokens(\/|$)/, 'token'],
  [/^\/v1\/users(\/|$)/, 'user'],
  [/^\/v1\/authz(\/|$)/, 'policy'],
  [/^\/metrics$/, 'gateway'],
];

const LOCAL_ADMIN = anonymousPrincipal({ roles: ['admin'], scopes: ['*'] });

/**
 * Authenticates every request except the public paths, then authorizes it coarsely: MCP endpoints need the MCP
 * scopes (and a token scoped to virtual servers only works on theirs); the REST API needs a role and scope that
 * allow the action on the entity type. Finer checks (ownership of one entity, what a list shows, what a call may
 * reach) happen in the routes and router hooks, which find the caller through `runWithAuthContext` and
 * `requestPrincipal`. In local mode (no auth configured) every caller is the anonymous admin and nothing is checked.
 */
export function createAuthMiddleware(options: AuthMiddlewareOptions): MiddlewareHandler {
  const { auth } = options;
  const aroundMcp = options.aroundMcp ?? ((_request, next) => next());

  return async (c, next) => {
    const request = c.req.raw;
    const path = c.req.path;
    const mcp = MCP_PATH.exec(path);
    if (!auth.configured) {
      setRequestPrincipal(request, LOCAL_ADMIN);
      if (mcp) return aroundMcp(request, next);
      return runWithAuthContext({ principal: LOCAL_ADMIN }, () => next());
    }
    if (PUBLIC_PATH.test(path)) return next();

    const virtualServerId = mcp?.[2] === undefined ? undefined : decodeURIComponent(mcp[2]);
    const base = options.baseUrl();
    const resource = virtualServerId === undefined ? `${base}/mcp` : `${base}/servers/${virtualServerId}/mcp`;
    const result = await auth.authenticator.authenticate(request, {
      resource,
      virtualServerId,
      requiredScopes: mcp ? auth.mcpScopes : [],
    });
    if (isAuthFailure(result)) return auth.authenticator.challengeResponse(result);
    const principal = result;
    setRequestPrincipal(request, principal);

    if (mcp) {
      if (virtualServerId !== undefined) {
        const server = options.virtualServer(virtualServerId);
        // A server the caller may not see answers exactly like one that does not exist.
        if (
          server &&
          !auth.policy.canSee(principal, { ...server, visibility: server.visibility ?? 'public' })
        ) {
          return restErrorResponse(404, {
            code: 'not-found',
            message: `no enabled virtual server with id "${virtualServerId}"`,
          });
        }
      }
      return runWithAuthContext({ principal, virtualServerId }, () => aroundMcp(request, next));
    }

    const refusal = authorizeRest(auth, principal, { method: c.req.method, path, resource });
    if (refusal) return refusal;
    return runWithAuthContext({ principal }, () => next());
  };
}

/** The coarse REST check: may this principal perform the method's action on the path's entity type at all? */
function authorizeRest(
  auth: GatewayAuth,
  principal: Principal,
  { method, path, resource }: { method: string; path: string; resource: string },
): Response | undefined {
  const type = REST_TYPES.find(([pattern]) => pattern.test(path))?.[1];
  if (type === undefined) return undefined; // unknown paths fall through to the 404 handler
  // Everyone signed in may see who they are and manage their own tokens (the routes keep them to their own).
  if (path === '/v1/users/me' && principal.kind !== 'anonymous') return undefined;
  if (type === 'token' && principal.kind !== 'anonymous') return undefined;
  const action = actionOf(method, path);
  if (auth.policy.canAdmin(principal, action, type)) return undefined;
  const scope = action === 'read' ? ADMIN_SCOPES.read : ADMIN_SCOPES.write;
  if ((principal.kind === 'token' || principal.kind === 'jwt') && !scopeAllows(principal, action)) {
    const failure = auth.authenticator.refuse(
      {
        status: 403,
        error: 'insufficient_scope',
        message: `this request needs the scope ${scope}`,
        scope: [scope],
      },
      { resource },
    );
    return auth.authenticator.challengeResponse(failure);
  }
  if (principal.kind === 'anonymous') {
    const failure = auth.authenticator.refuse(
      { status: 401, message: 'authentication required' },
      { resource },
    );
    return auth.authenticator.challengeResponse(failure);
  }
  const role = ROLES.find((r) => principal.roles.includes(r)) ?? 'viewer';
  return restErrorResponse(403, {
    code: 'forbidden',
    message: `the ${role} role may not ${action} ${type} entities`,
  });
}

function scopeAllows(principal: Principal, action: AdminAction): boolean {
  if (hasScopes(principal, [ADMIN_SCOPES.write])) return true;
  return action === 'read' && hasScopes(principal, [ADMIN_SCOPES.read]);
}

function actionOf(method: string, path: string): AdminAction {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return 'read';
  // Invoking a tool for testing is a call: the router's policy hook decides, like on MCP.
  if (/^\/v1\/tools\/[^/]+\/invoke$/.test(path)) return 'read';
  if (/\/(refresh|approve)$/.test(path)) return 'update';
  if (method === 'POST') return 'create';
  if (method === 'DELETE') return 'delete';
  return 'update';
}
