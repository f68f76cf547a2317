import { describe, expect, it } from 'vitest';
import {
  buildProtectedResourceMetadata,
  protectedResourceMetadataResponse,
  protectedResourceMetadataUrl,
} from './protected-resource-metadata.ts';

describe('Protected Resource Metadata (RFC 9728)', () => {
  it('is served under the well-known path inserted before the resource path', () => {
    expect(protectedResourceMetadataUrl('https://gw.test/mcp')).toBe(
      'https://gw.test/.well-known/oauth-protected-resource/mcp',
    );
    expect(protectedResourceMetadataUrl('https://gw.test/servers/a/mcp')).toBe(
      'https://gw.test/.well-known/oauth-protected-resource/servers/a/mcp',
    );
    expect(protectedResourceMetadataUrl('https://gw.test/')).toBe(
      'https://gw.test/.well-known/oauth-protected-resource',
    );
  });

  it('names the resource, its authorization servers and header-only bearer tokens', async () => {
    const metadata = buildProtectedResourceMetadata({
      resource: 'https://gw.test/servers/a/mcp',
      authorizationServers: ['https://idp.test'],
      scopesSupported: ['mcp:tools'],
      resourceName: 'Team A tools',
    });
    expect(metadata).toEqual({
      resource: 'https://gw.test/servers/a/mcp',
      authorization_servers: ['https://idp.test'],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp:tools'],
      resource_name: 'Team A tools',
    });
    const response = protectedResourceMetadataResponse(metadata);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual(metadata);
    expect(() =>
      buildProtectedResourceMetadata({ resource: 'https://gw.test/mcp#x', authorizationServers: [] }),
    ).toThrow(/fragment/);
  });
});
