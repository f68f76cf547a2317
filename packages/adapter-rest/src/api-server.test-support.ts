// Test support: real loopback HTTP servers standing in for REST APIs. Tests may use Hono to write them (the
// library never does), so the import restriction for packages is lifted in this file only.
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { createRestUpstream, type RestUpstreamOptions } from './rest-upstream.ts';
import type { RestUpstream } from './rest-upstream.ts';

/** A Hono app served on a loopback address with an ephemeral port, counting TCP connections. */
export interface ApiServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  host: string;
  port: number;
  /** TCP connections accepted so far: a refused destination must leave this at zero. */
  connections(): number;
  close(): Promise<void>;
}

/** Starts `app` on `hostname` [127.0.0.1]. */
export async function startApiServer(app: Hono, hostname = '127.0.0.1'): Promise<ApiServer> {
  const server = createAdaptorServer({ fetch: app.fetch });
  let connections = 0;
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, hostname, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
    return closing;
  };
  return {
    origin: `http://${hostname}:${port}`,
    host: hostname,
    port,
    connections: () => connections,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A REST upstream that closes itself when disposed. */
export function disposableUpstream(options: RestUpstreamOptions): RestUpstream & AsyncDisposable {
  const upstream = createRestUpstream(options);
  return Object.assign(upstream, { [Symbol.asyncDispose]: () => upstream.close() });
}

/** The result of a tools/call as tests read it. */
export interface ToolResult {
  content: Array<{
    type: string;
    text?: string;
    data?: string;
    mimeType?: string;
    resource?: Record<string, unknown>;
  }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** Calls a tool the way the router does: `params` is `{ name, arguments, _meta }`. */
export function callTool(upstream: RestUpstream, name: string, args: Record<string, unknown> = {}) {
  return callToolWith(upstream, { name, arguments: args });
}

/** Calls a tool with full tools/call params (`_meta` included). */
export function callToolWith(upstream: RestUpstream, params: Record<string, unknown>) {
  return upstream.request('tools/call', params) as unknown as Promise<ToolResult>;
}

/** The text of a result's first content block. */
export function textOf(result: { content: Array<{ text?: string }> }): string {
  return result.content.map((block) => block.text ?? '').join('\n');
}
