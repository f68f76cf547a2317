/** Options of {@link buildProtectedResourceMetadata}. */
export interface ProtectedResourceMetadataOptions {
  /** The protected resource: the gateway's MCP URL, or a virtual server's (`https://gw.example.com/servers/a/mcp`). */
  resource: string;
  /** Issuer URLs of the authorization servers whose tokens this resource accepts. */
  authorizationServers: readonly string[];
  scopesSupported?: readonly string[];
  resourceName?: string;
  resourceDocumentation?: string;
}

/** The RFC 9728 document a client reads to find where to get a token for this resource. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: string[];
  scopes_supported?: string[];
  resource_name?: string;
  resource_documentation?: string;
}

/** Builds the Protected Resource Metadata document (RFC 9728) for one resource. */
export function buildProtectedResourceMetadata(
  options: ProtectedResourceMetadataOptions,
): ProtectedResourceMetadata {
  const resource = new URL(options.resource);
  if (resource.hash !== '') throw new TypeError('a resource URL has no fragment (RFC 8707)');
  return {
    resource: options.resource,
    authorization_servers: [...options.authorizationServers],
    // Only the header: tokens in a query string or form body end up in logs.
    bearer_methods_supported: ['header'],
    ...(options.scopesSupported ? { scopes_supported: [...options.scopesSupported] } : {}),
    ...(options.resourceName === undefined ? {} : { resource_name: options.resourceName }),
    ...(options.resourceDocumentation === undefined
      ? {}
      : { resource_documentation: options.resourceDocumentation }),
  };
}

/**
 * Where a resource's metadata is served (RFC 9728 §3.1): the well-known path inserted between the host and the
 * resource's path, so `https://gw/servers/a/mcp` → `https://gw/.well-known/oauth-protected-resource/servers/a/mcp`
 * and `https://gw/` → `https://gw/.well-known/oauth-protected-resource`.
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.origin}/.well-known/oauth-protected-resource${path}${url.search}`;
}

/** The metadata as an HTTP response: JSON, cacheable for an hour, readable by browser-based clients (CORS). */
export function protectedResourceMetadataResponse(metadata: ProtectedResourceMetadata): Response {
  return new Response(JSON.stringify(metadata), {
    status: 200,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'public, max-age=3600',
      'access-control-allow-origin': '*',
    },
  });
}
