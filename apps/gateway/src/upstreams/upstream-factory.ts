import {
  SSEClientTransport,
  StreamableHTTPClientTransport,
  type Transport,
} from '@modelcontextprotocol/client';
import { stripInboundCredentials } from '@mcp-gateway/auth';
import type { Logger, Upstream } from '@mcp-gateway/core';
import { createLimitedFetch, createMcpUpstream } from '@mcp-gateway/federation';
import { NEVER_FORWARDED_HEADERS, type GatewayRecord } from '@mcp-gateway/registry';
import { createStdioClientTransport } from '@mcp-gateway/transport-stdio';
import { createWebSocketClientTransport } from '@mcp-gateway/transport-websocket';
import { currentInboundHeaders } from './inbound-headers.ts';

/** Options of {@link createUpstreamFactory}. */
export interface UpstreamFactoryOptions {
  logger: Logger;
  /** Per-request timeout when a gateway sets none. */
  defaultTimeoutMs: number;
  /** Keep-alive ping interval; 0 turns it off. */
  keepAliveMs?: number;
  /** The fetch HTTP upstreams use (tracing wraps it to propagate `traceparent`) [globalThis.fetch]. */
  fetch?: typeof globalThis.fetch;
  /** Largest upstream response body (HTTP) or message (stdio, WebSocket) [32 MiB]. */
  maxResponseBytes?: number;
}

/** Builds the live {@link Upstream} for a registry record: one pooled MCP session over the record's transport. */
export function createUpstreamFactory(options: UpstreamFactoryOptions): (record: GatewayRecord) => Upstream {
  const maxResponseBytes = options.maxResponseBytes ?? 32 * 1024 * 1024;
  const limited: UpstreamFactoryOptions = {
    ...options,
    maxResponseBytes,
    fetch: createLimitedFetch(maxResponseBytes, options.fetch ?? globalThis.fetch),
  };
  return (record) =>
    createMcpUpstream({
      id: record.id,
      name: record.name,
      logger: options.logger,
      timeoutMs: record.timeoutMs ?? options.defaultTimeoutMs,
      protocolEra: record.protocolEra,
      connectTimeoutMs: Math.max(record.timeoutMs ?? options.defaultTimeoutMs, 10_000),
      keepAliveMs: options.keepAliveMs,
      connect: () =>
        openTransport(record, {
          ...limited,
          fetch: forwardingInboundHeaders(limited.fetch ?? globalThis.fetch, record.passthroughHeaders),
        }),
    });
}

/**
 * A fetch that adds the allowlisted headers of the inbound MCP request being served (see `runWithInboundHeaders`) to
 * each request to the upstream. The SDK transport calls fetch from the caller's async context for every message it
 * sends, so even on a pooled session each call carries its own client's headers. Headers the transport or the
 * gateway's configuration already set win; credentials and the gateway's own protocol headers never pass.
 */
export function forwardingInboundHeaders(
  fetch: typeof globalThis.fetch,
  allowlist: readonly string[],
): typeof globalThis.fetch {
  if (allowlist.length === 0) return fetch;
  return (input, init) => {
    const inbound = currentInboundHeaders();
    if (inbound === undefined) return fetch(input, init);
    const forwarded = stripInboundCredentials(inbound, allowlist);
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    for (const [name, value] of forwarded) {
      if (!NEVER_FORWARDED_HEADERS.includes(name) && !headers.has(name)) headers.set(name, value);
    }
    return fetch(input, { ...init, headers });
  };
}

function openTransport(record: GatewayRecord, options: UpstreamFactoryOptions): Transport {
  const { logger } = options;
  switch (record.transport) {
    case 'stdio':
      if (!record.command) throw new Error(`gateway "${record.name}" has no command`);
      return createStdioClientTransport({
        command: record.command,
        args: record.args,
        env: record.env,
        cwd: record.cwd,
        name: record.name,
        logger,
        maxMessageBytes: options.maxResponseBytes,
      });
    case 'streamable-http':
      if (!record.url) throw new Error(`gateway "${record.name}" has no url`);
      return new StreamableHTTPClientTransport(new URL(record.url), {
        requestInit: { headers: record.headers },
        fetch: options.fetch,
      });
    case 'websocket':
      if (!record.url) throw new Error(`gateway "${record.name}" has no url`);
      return createWebSocketClientTransport({
        url: record.url,
        headers: record.headers,
        logger,
        maxMessageBytes: options.maxResponseBytes,
      });
    case 'sse':
      if (!record.url) throw new Error(`gateway "${record.name}" has no url`);
      return new SSEClientTransport(new URL(record.url), {
        requestInit: { headers: record.headers },
        fetch: options.fetch,
      });
  }
}
