import { randomUUID } from 'node:crypto';
import { getRequestListener } from '@hono/node-server';
import { createMcpHandler, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import type { McpServer } from '@modelcontextprotocol/server';
import { createFixtureServer } from './fixture-server.ts';
import { listenOnLoopback } from './loopback-server.ts';

/** Options for {@link startHttpFixture}. */
export interface HttpFixtureOptions {
  /** Passed to {@link createFixtureServer} for every session. */
  name: string;
  /** Path of the MCP endpoint. Default `'/mcp'`. */
  path?: string;
  /** Port to listen on; default an ephemeral one. A test restarts a fixture on its old port to simulate an outage. */
  port?: number;
  /**
   * `legacy` (default): 2025-era sessions only. `modern`: the 2026-07-28 stateless protocol only (server/discover,
   * per-request servers, input_required instead of server→client requests), for era-bridging tests.
   */
  era?: 'legacy' | 'modern';
  /** Sees every request before it is handled (tests record the headers an upstream receives). */
  onRequest?: (request: Request) => void;
}

/** A running fixture served over HTTP on loopback; dispose it (`await using`) to stop it. */
export interface HttpFixture {
  /** Absolute URL of the endpoint clients connect to. */
  url: string;
  /** Ends every session and the listener, destroying open sockets. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
  /** Number of open sessions (one per connected client). */
  sessionCount(): number;
}

interface Session {
  server: McpServer;
  transport: WebStandardStreamableHTTPServerTransport;
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: '2.0', error: { code, message }, id: null }, { status });
}

/**
 * Serves fixture servers over streamable HTTP on 127.0.0.1 with an ephemeral port. Stateful: each
 * `initialize` creates a session (its own server and transport), later requests are routed by the
 * `mcp-session-id` header, and `DELETE` ends the session.
 */
export async function startHttpFixture(options: HttpFixtureOptions): Promise<HttpFixture> {
  const path = options.path ?? '/mcp';
  const sessions = new Map<string, Session>();

  const modern =
    options.era === 'modern'
      ? createMcpHandler(() => createFixtureServer({ name: options.name }), { legacy: 'reject' })
      : undefined;

  async function handle(request: Request): Promise<Response> {
    options.onRequest?.(request);
    if (new URL(request.url).pathname !== path) return new Response('Not Found', { status: 404 });
    if (modern) return modern.fetch(request);

    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId !== null) {
      const session = sessions.get(sessionId);
      if (session === undefined) return jsonRpcError(404, -32001, 'Session not found');
      return session.transport.handleRequest(request);
    }
    if (request.method !== 'POST')
      return jsonRpcError(400, -32000, 'Bad Request: Mcp-Session-Id header is required');

    // No session yet: this must be an initialize request, which the transport checks.
    const server = createFixtureServer({ name: options.name });
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { server, transport });
      },
    });
    server.server.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    const response = await transport.handleRequest(request);
    if (transport.sessionId === undefined) await server.close();
    return response;
  }

  const listener = getRequestListener(
    async (request) => {
      try {
        return await handle(request);
      } catch (error) {
        return jsonRpcError(500, -32603, error instanceof Error ? error.message : String(error));
      }
    },
    { overrideGlobalObjects: false },
  );
  const loopback = await listenOnLoopback(listener, options.port);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await Promise.allSettled([...sessions.values()].map(({ server }) => server.close()));
      await modern?.close();
      sessions.clear();
      await loopback.close();
    })();
    return closing;
  };

  return {
    url: `${loopback.origin}${path}`,
    close,
    [Symbol.asyncDispose]: close,
    sessionCount: () => sessions.size,
  };
}
