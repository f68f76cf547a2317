import { isIP } from 'node:net';
import { GatewayError } from '@mcp-gateway/core';

/** Options of {@link assertSafeBinding}. */
export interface SafeBindingOptions {
  /** The address the server listens on. */
  host: string;
  /** True when at least one authentication method is configured. */
  authConfigured: boolean;
  /** The operator's explicit opt-out (e.g. `--allow-unauthenticated`), for a gateway behind an authenticating proxy. */
  allowUnauthenticated?: boolean;
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const lower = bare.toLowerCase();
  if (lower === 'localhost' || lower.endsWith('.localhost')) return true;
  if (isIP(lower) === 4) return lower.startsWith('127.');
  if (isIP(lower) === 6) return lower === '::1' || /^::ffff:127\./.test(lower) || lower === '0:0:0:0:0:0:0:1';
  return false;
}

/**
 * Refuses to start a gateway that anyone on the network could use without credentials: without authentication it
 * must bind a loopback address, unless the operator explicitly allows it. Throws `GatewayError('config-invalid')`.
 */
export function assertSafeBinding(options: SafeBindingOptions): void {
  if (options.authConfigured || options.allowUnauthenticated === true || isLoopbackHost(options.host)) return;
  throw new GatewayError(
    'config-invalid',
    `refusing to listen on ${options.host} without authentication: anyone who can reach it could call every tool. ` +
      'Configure authentication (MCP_GATEWAY_JWT_SECRET, MCP_GATEWAY_JWT_JWKS_URL, API tokens or Basic users), ' +
      'bind 127.0.0.1, or pass --allow-unauthenticated if a proxy in front authenticates every request.',
    { details: { host: options.host } },
  );
}
