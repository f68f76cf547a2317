import { GatewayError } from '@mcp-gateway/core';
import type { JwtVerifierOptions } from './jwt-verifier.ts';

/**
 * JWT settings from the environment, or `undefined` when JWT auth is not configured:
 * - `MCP_GATEWAY_JWT_SECRET`: an HS256 secret (at least 32 bytes), or
 * - `MCP_GATEWAY_JWT_JWKS_URL`: the authorization server's JWKS (RS256, ES256, EdDSA);
 * - `MCP_GATEWAY_JWT_AUDIENCE` (required with either; comma-separated for several): the gateway's resource URL;
 * - `MCP_GATEWAY_JWT_ISSUER` (optional, comma-separated): trusted issuers.
 */
export function jwtOptionsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): JwtVerifierOptions | undefined {
  const secret = nonEmpty(env.MCP_GATEWAY_JWT_SECRET);
  const jwksUrl = nonEmpty(env.MCP_GATEWAY_JWT_JWKS_URL);
  if (secret === undefined && jwksUrl === undefined) return undefined;
  const audience = list(env.MCP_GATEWAY_JWT_AUDIENCE);
  if (audience.length === 0) {
    throw new GatewayError(
      'config-invalid',
      'MCP_GATEWAY_JWT_AUDIENCE is required with MCP_GATEWAY_JWT_SECRET or MCP_GATEWAY_JWT_JWKS_URL: set it to ' +
        "the gateway's public MCP URL (e.g. https://gateway.example.com/mcp) so tokens for other services are refused",
    );
  }
  const issuer = list(env.MCP_GATEWAY_JWT_ISSUER);
  return {
    ...(secret === undefined ? {} : { secret }),
    ...(jwksUrl === undefined ? {} : { jwksUrl }),
    audience,
    ...(issuer.length === 0 ? {} : { issuer }),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
