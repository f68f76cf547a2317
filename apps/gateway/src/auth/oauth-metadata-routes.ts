import { Hono } from 'hono';
import {
  ADMIN_SCOPES,
  buildProtectedResourceMetadata,
  protectedResourceMetadataResponse,
} from '@mcp-gateway/auth';
import { restErrorResponse } from '../http/rest-error.ts';

/** Options of {@link createOAuthMetadataRoutes}. */
export interface OAuthMetadataRoutesOptions {
  /** The gateway's external base URL. */
  baseUrl: () => string;
  /** Issuers of the authorization servers whose tokens the gateway accepts; none: no metadata is served. */
  authorizationServers: readonly string[];
  /** Scopes MCP requests need. */
  mcpScopes: readonly string[];
  /** True when a virtual server with this id exists and is enabled. */
  hasVirtualServer: (id: string) => boolean;
}

/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) so MCP clients can find the authorization server: for the
 * gateway's MCP endpoint at `/.well-known/oauth-protected-resource` and `…/mcp`, and for each virtual server at
 * `/.well-known/oauth-protected-resource/servers/{id}/mcp`. The 401s of those endpoints point here.
 */
export function createOAuthMetadataRoutes(options: OAuthMetadataRoutesOptions): Hono {
  const app = new Hono();
  const scopes = [...new Set([...options.mcpScopes, ADMIN_SCOPES.read, ADMIN_SCOPES.write])];

  const document = (path: string) => {
    if (options.authorizationServers.length === 0) {
      return restErrorResponse(404, {
        code: 'not-found',
        message:
          'no OAuth authorization server is configured (MCP_GATEWAY_JWT_ISSUER or MCP_GATEWAY_AUTHORIZATION_SERVERS)',
      });
    }
    return protectedResourceMetadataResponse(
      buildProtectedResourceMetadata({
        resource: `${options.baseUrl()}${path}`,
        authorizationServers: options.authorizationServers,
        scopesSupported: scopes,
        resourceName: 'MCP Gateway',
        resourceDocumentation: `${options.baseUrl()}/docs`,
      }),
    );
  };

  app.get('/.well-known/oauth-protected-resource', () => document('/mcp'));
  app.get('/.well-known/oauth-protected-resource/mcp', () => document('/mcp'));
  app.get('/.well-known/oauth-protected-resource/servers/:id/mcp', (c) => {
    const id = c.req.param('id');
    if (!options.hasVirtualServer(id)) {
      return restErrorResponse(404, {
        code: 'not-found',
        message: `no enabled virtual server with id "${id}"`,
      });
    }
    return document(`/servers/${id}/mcp`);
  });
  return app;
}
