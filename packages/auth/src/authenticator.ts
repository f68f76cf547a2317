import { silentLogger } from '@mcp-gateway/core';
import type { Logger } from '@mcp-gateway/core';
import type { BasicVerifier } from './basic-verifier.ts';
import type { JwtVerifier } from './jwt-verifier.ts';
import { protectedResourceMetadataUrl } from './protected-resource-metadata.ts';
import { anonymousPrincipal, hasScopes } from './principal.ts';
import type { AuthFailure, Principal } from './principal.ts';
import { API_TOKEN_PREFIX } from './token-service.ts';
import type { TokenService } from './token-service.ts';

/** What anonymous callers get when anonymous access is on. */
export interface AnonymousGrants {
  roles?: readonly string[];
  teams?: readonly string[];
  scopes?: readonly string[];
}

/** Options of {@link createAuthenticator}. Each method is off unless given. */
export interface AuthenticatorOptions {
  /** Bearer JWTs (an OAuth 2.1 resource server when the tokens come from an authorization server). */
  jwt?: JwtVerifier;
  /** Bearer API tokens (`mgw_…`). */
  tokens?: TokenService;
  /** Basic auth for people. */
  basic?: BasicVerifier;
  /**
   * Requests without credentials. Default: when no method is configured, single-user local mode, everyone is
   * `anonymous` with the `admin` role (the gateway must then bind 127.0.0.1: see `assertSafeBinding`); otherwise
   * `false`, a 401.
   */
  anonymous?: false | AnonymousGrants;
  /**
   * The gateway's resource URL (its public MCP URL). When set, 401s carry `resource_metadata` pointing at its
   * RFC 9728 document, so MCP clients can discover the authorization server.
   */
  resource?: string;
  /** Scopes every request needs unless `authenticate` is told otherwise. Default none. */
  requiredScopes?: readonly string[];
  /** Default `mcp-gateway`. */
  realm?: string;
  logger?: Logger;
}

/** Per-request facts the HTTP layer knows. */
export interface AuthenticateContext {
  /**
   * The resource URL of the endpoint the request hit, e.g. a virtual server's `https://gw/servers/a/mcp`. JWTs whose
   * `aud` is this URL are accepted besides the gateway's own audience; 401s point at its metadata.
   */
  resource?: string;
  /** The virtual server the request is for; tokens scoped to other virtual servers are refused. */
  virtualServerId?: string;
  /** Overrides the authenticator's `requiredScopes` for this request. */
  requiredScopes?: readonly string[];
}

/** Turns the credentials of a request into a {@link Principal}, or says why not. */
export interface Authenticator {
  authenticate(request: Request, context?: AuthenticateContext): Promise<Principal | AuthFailure>;
  /** The 401/403 response for a failure: `WWW-Authenticate` set, the REST error body. */
  challengeResponse(failure: AuthFailure): Response;
  /**
   * A refusal decided after authentication (e.g. a REST route needing a scope the token lacks), with the same
   * `WWW-Authenticate` challenge `authenticate` would build: realm, resource metadata, error and scope.
   */
  refuse(
    fields: { status: 401 | 403; error?: AuthFailure['error']; message: string; scope?: readonly string[] },
    context?: AuthenticateContext,
  ): AuthFailure;
  /** True when at least one credential method is configured. */
  readonly configured: boolean;
}

/** Creates an {@link Authenticator}. */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const logger = options.logger ?? silentLogger;
  const realm = options.realm ?? 'mcp-gateway';
  const configured = options.jwt !== undefined || options.tokens !== undefined || options.basic !== undefined;
  const anonymous =
    options.anonymous === undefined
      ? configured
        ? false
        : { roles: ['admin'], scopes: ['*'] }
      : options.anonymous;
  if (options.resource !== undefined) new URL(options.resource); // throws early on a typo

  const challenge = (
    context: AuthenticateContext | undefined,
    fields: { status: 401 | 403; error?: AuthFailure['error']; message: string; scope?: readonly string[] },
  ): AuthFailure => {
    const resource = context?.resource ?? options.resource;
    const params: string[] = [`realm="${quote(realm)}"`];
    if (resource !== undefined)
      params.push(`resource_metadata="${quote(protectedResourceMetadataUrl(resource))}"`);
    if (fields.error !== undefined) {
      params.push(`error="${fields.error}"`, `error_description="${quote(fields.message)}"`);
    }
    if (fields.scope !== undefined && fields.scope.length > 0)
      params.push(`scope="${quote(fields.scope.join(' '))}"`);
    let header = `Bearer ${params.join(', ')}`;
    if (options.basic && fields.status === 401 && fields.error === undefined) {
      header += `, Basic realm="${quote(realm)}", charset="UTF-8"`;
    }
    return { ...fields, wwwAuthenticate: header };
  };

  const identify = async (
    request: Request,
    context: AuthenticateContext | undefined,
  ): Promise<Principal | AuthFailure> => {
    const query = new URL(request.url).searchParams;
    if (query.has('access_token')) {
      return challenge(context, {
        status: 401,
        error: 'invalid_request',
        message:
          'access tokens in the URL query string are refused (URLs end up in logs); send "Authorization: Bearer <token>"',
      });
    }
    const header = request.headers.get('authorization');
    if (header === null || header.trim() === '') {
      if (anonymous) return anonymousPrincipal(anonymous);
      return challenge(context, { status: 401, message: 'authentication required' });
    }
    const match = /^([A-Za-z][A-Za-z0-9_-]*)\s+(\S.*)$/.exec(header.trim());
    const scheme = match?.[1]?.toLowerCase();
    const credentials = match?.[2]?.trim() ?? '';
    const invalid = (message: string) => challenge(context, { status: 401, error: 'invalid_token', message });

    if (scheme === 'bearer') {
      if (credentials.startsWith(API_TOKEN_PREFIX) && options.tokens) {
        const result = await options.tokens.verify(credentials);
        return 'principal' in result ? result.principal : invalid(result.error);
      }
      if (options.jwt) {
        const result = await options.jwt.verify(credentials, { audience: context?.resource });
        return 'principal' in result ? result.principal : invalid(result.error);
      }
      if (options.tokens) {
        const result = await options.tokens.verify(credentials);
        return 'principal' in result ? result.principal : invalid(result.error);
      }
      return invalid('bearer tokens are not accepted by this gateway');
    }
    if (scheme === 'basic') {
      if (!options.basic) {
        return challenge(context, {
          status: 401,
          error: 'invalid_request',
          message: 'Basic authentication is not enabled',
        });
      }
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) {
        return challenge(context, {
          status: 401,
          error: 'invalid_request',
          message: 'malformed Basic credentials',
        });
      }
      const result = await options.basic.verify(decoded.slice(0, colon), decoded.slice(colon + 1));
      return 'principal' in result
        ? result.principal
        : challenge(context, { status: 401, message: result.error });
    }
    return challenge(context, {
      status: 401,
      error: 'invalid_request',
      message: 'unsupported Authorization scheme; use Bearer',
    });
  };

  return {
    configured,

    async authenticate(request, context) {
      const identified = await identify(request, context);
      if ('status' in identified) {
        logger.debug({ status: identified.status, reason: identified.message }, 'request not authenticated');
        return identified;
      }
      const principal = identified;
      if (principal.virtualServers !== undefined) {
        const target = context?.virtualServerId;
        if (target === undefined || !principal.virtualServers.includes(target)) {
          return challenge(context, {
            status: 403,
            error: 'insufficient_scope',
            message:
              target === undefined
                ? `this token is limited to virtual servers ${principal.virtualServers.join(', ')}; use one of their endpoints`
                : `this token is not valid for virtual server ${target}`,
          });
        }
      }
      const required = context?.requiredScopes ?? options.requiredScopes ?? [];
      if (!hasScopes(principal, required)) {
        if (principal.kind === 'anonymous') {
          return challenge(context, { status: 401, message: 'authentication required', scope: required });
        }
        return challenge(context, {
          status: 403,
          error: 'insufficient_scope',
          message: `this request needs the scope(s): ${required.join(' ')}`,
          scope: required,
        });
      }
      return principal;
    },

    challengeResponse,

    refuse: (fields, context) => challenge(context, fields),
  };
}

/** The 401/403 response for an {@link AuthFailure}: `WWW-Authenticate` and the REST error body. */
export function challengeResponse(failure: AuthFailure): Response {
  const code = failure.error ?? (failure.status === 401 ? 'unauthorized' : 'forbidden');
  return new Response(JSON.stringify({ error: { code, message: failure.message } }), {
    status: failure.status,
    headers: {
      'content-type': 'application/json',
      'www-authenticate': failure.wwwAuthenticate,
      'cache-control': 'no-store',
    },
  });
}

/** Escapes a value for a quoted-string in an auth-param. */
function quote(value: string): string {
  return value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]/g, ' ');
}
