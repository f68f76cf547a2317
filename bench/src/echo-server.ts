import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { McpServer, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import * as z from 'zod';

/**
 * The benchmark upstream: one `echo` tool and nothing else, so that the server under the gateway costs as little
 * as possible and the figures show the hop, not the upstream.
 */
export function createEchoServer(): McpServer {
  const server = new McpServer({ name: 'bench-echo', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.registerTool(
    'echo',
    { description: 'Echoes the message back.', inputSchema: z.object({ message: z.string() }) },
    ({ message }) => ({ content: [{ type: 'text', text: `Echo: ${message}` }] }),
  );
  return server;
}

/** Options of {@link startEchoHttpServer}. */
export interface EchoHttpServerOptions {
  /** Port to listen on [0: an ephemeral one]. */
  port?: number;
}

/** A running echo server on `127.0.0.1`; `close()` ends every session and the listener. */
export interface EchoHttpServer {
  /** The MCP endpoint, `http://127.0.0.1:<port>/mcp`. */
  url: string;
  sessionCount(): number;
  close(): Promise<void>;
}

interface EchoSession {
  server: McpServer;
  transport: WebStandardStreamableHTTPServerTransport;
}

function jsonRpcError(status: number, message: string): Response {
  return Response.json({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }, { status });
}

/**
 * Serves {@link createEchoServer} over streamable HTTP with stateful sessions and plain JSON responses
 * (`enableJsonResponse`): `initialize` opens a session, later requests are routed by `Mcp-Session-Id`, DELETE ends
 * it. No Host/Origin checks, no event store: the cheapest correct server the SDK offers.
 */
export async function startEchoHttpServer(options: EchoHttpServerOptions = {}): Promise<EchoHttpServer> {
  const sessions = new Map<string, EchoSession>();

  const handle = async (request: Request): Promise<Response> => {
    if (new URL(request.url).pathname !== '/mcp') return new Response('Not Found', { status: 404 });
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId !== null) {
      const session = sessions.get(sessionId);
      if (session === undefined) return jsonRpcError(404, 'Session not found');
      return session.transport.handleRequest(request);
    }
    if (request.method !== 'POST') return jsonRpcError(400, 'Mcp-Session-Id header is required');
    // No session yet: the transport accepts only an initialize request here.
    const server = createEchoServer();
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      enableJsonResponse: true,
      onsessioninitialized: (id) => {
        sessions.set(id, { server, transport });
      },
      onsessionclosed: (id) => {
        sessions.delete(id);
      },
    });
    await server.connect(transport);
    const response = await transport.handleRequest(request);
    if (transport.sessionId === undefined) await server.close();
    return response;
  };

  const listener = getRequestListener(
    async (request) => {
      try {
        return await handle(request);
      } catch (error) {
        return jsonRpcError(500, error instanceof Error ? error.message : String(error));
      }
    },
    { overrideGlobalObjects: false },
  );
  const http = createServer(listener);
  http.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  const { port } = http.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    sessionCount: () => sessions.size,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeAllConnections();
        await Promise.all([...sessions.values()].map(({ server }) => server.close().catch(() => undefined)));
        sessions.clear();
        await closed;
      })();
      return closing;
    },
  };
}

/** Serves {@link createEchoServer} on this process's stdin/stdout until stdin closes. */
export async function serveEchoStdio(): Promise<void> {
  const server = createEchoServer();
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = () => resolve();
  });
  await server.connect(new StdioServerTransport());
  await closed;
}
