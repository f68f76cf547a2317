// Many fake MCP upstreams in one Node process, for the catalog-scale benchmark: one loopback port, one streamable-HTTP
// endpoint per upstream at /u001/mcp, /u002/mcp, … Each upstream has `--tools` tools with small input schemas and
// ~100-character descriptions. Stateful (a session per `initialize`), each session a minimal low-level SDK `Server`
// whose tools/list answers from a list built once per upstream.
//
//   tsx src/scale-upstreams.ts [--upstreams 100] [--tools 100] [--port 0]
// Prints `listening http://127.0.0.1:<port>` when ready. Ends on SIGTERM or SIGINT (or by itself after an hour).
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { getRequestListener } from '@hono/node-server';
import { Server, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import type { CallToolResult, Tool } from '@modelcontextprotocol/server';
import { upstreamName, upstreamTools } from './scale-tools.ts';

interface Session {
  server: Server;
  transport: WebStandardStreamableHTTPServerTransport;
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: '2.0', error: { code, message }, id: null }, { status });
}

function newServer(name: string, tools: Tool[]): Server {
  const server = new Server({ name, version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler('tools/list', () => ({ tools }));
  server.setRequestHandler('tools/call', (request): CallToolResult => {
    const known = tools.some((tool) => tool.name === request.params.name);
    if (!known)
      return { content: [{ type: 'text', text: `unknown tool ${request.params.name}` }], isError: true };
    return {
      content: [
        {
          type: 'text',
          text: `${name}/${request.params.name}: ${JSON.stringify(request.params.arguments ?? {})}`,
        },
      ],
    };
  });
  return server;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      upstreams: { type: 'string', default: '100' },
      tools: { type: 'string', default: '100' },
      port: { type: 'string', default: '0' },
    },
  });
  const upstreamCount = Number(values.upstreams);
  const toolCount = Number(values.tools);
  if (!(upstreamCount >= 1 && upstreamCount <= 999) || !(toolCount >= 1 && toolCount <= 10_000)) {
    throw new Error('--upstreams must be 1–999 and --tools 1–10000');
  }
  const catalogs = new Map<string, Tool[]>();
  for (let index = 0; index < upstreamCount; index += 1) {
    const name = upstreamName(index);
    catalogs.set(name, upstreamTools(name, toolCount));
  }
  const sessions = new Map<string, Session>();

  async function handle(request: Request): Promise<Response> {
    const match = /^\/(u\d{3})\/mcp$/.exec(new URL(request.url).pathname);
    const name = match?.[1];
    const tools = name === undefined ? undefined : catalogs.get(name);
    if (name === undefined || tools === undefined) return new Response('Not Found', { status: 404 });
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId !== null) {
      const session = sessions.get(sessionId);
      if (session === undefined) return jsonRpcError(404, -32001, 'Session not found');
      return session.transport.handleRequest(request);
    }
    if (request.method !== 'POST')
      return jsonRpcError(400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    const server = newServer(name, tools);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { server, transport });
      },
    });
    server.onclose = () => {
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
  const http = createServer(listener);
  http.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(Number(values.port), '127.0.0.1', () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  process.stdout.write(`listening http://127.0.0.1:${port}\n`);

  const shutdown = () => {
    http.closeAllConnections();
    http.close();
    for (const { server } of sessions.values()) void server.close().catch(() => undefined);
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  // An orphan (the benchmark died without killing its group) ends itself after an hour at most.
  setTimeout(() => process.exit(0), 3_600_000).unref();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
