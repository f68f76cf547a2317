import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseJSONRPCMessage } from '@modelcontextprotocol/server';
import type { JSONRPCMessage, McpServer, Transport } from '@modelcontextprotocol/server';
import { createFixtureServer } from './fixture-server.ts';
import type { HttpFixture } from './http-fixture.ts';
import { listenOnLoopback } from './loopback-server.ts';

/** Options for {@link startSseFixture}. */
export interface SseFixtureOptions {
  /** Passed to {@link createFixtureServer} for every connection. */
  name: string;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * Server side of the deprecated HTTP+SSE transport (protocol 2024-11-05), which SDK v2 no longer ships:
 * server→client messages are `message` events on one long-lived `GET /sse` stream, client→server messages
 * are POSTed to the endpoint announced in the first (`endpoint`) event.
 */
class SseServerTransport implements Transport {
  readonly sessionId = randomUUID();
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  #closed = false;

  constructor(
    private readonly response: ServerResponse,
    private readonly messagePath: string,
  ) {}

  async start(): Promise<void> {
    this.response.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
    });
    this.response.write(`event: endpoint\ndata: ${this.messagePath}?sessionId=${this.sessionId}\n\n`);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) throw new Error('SSE stream is closed');
    this.response.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
  }

  /** Delivers one POSTed client→server message; throws if it is not JSON-RPC. */
  receive(body: unknown): void {
    this.onmessage?.(parseJSONRPCMessage(body));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.response.end();
    this.onclose?.();
  }
}

interface Session {
  server: McpServer;
  transport: SseServerTransport;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error('Request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function reply(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'text/plain' }).end(body);
}

/**
 * Serves fixture servers over the legacy HTTP+SSE transport on 127.0.0.1 with an ephemeral port: `GET /sse`
 * opens a session (its own server), `POST /message?sessionId=<id>` delivers a message and answers 202
 * (404 for an unknown session). `url` points at `/sse`.
 */
export async function startSseFixture(options: SseFixtureOptions): Promise<HttpFixture> {
  const sessions = new Map<string, Session>();

  async function openStream(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const transport = new SseServerTransport(response, '/message');
    const server = createFixtureServer({ name: options.name });
    sessions.set(transport.sessionId, { server, transport });
    server.server.onclose = () => sessions.delete(transport.sessionId);
    request.on('close', () => void server.close());
    await server.connect(transport);
  }

  async function postMessage(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const session = sessions.get(url.searchParams.get('sessionId') ?? '');
    if (session === undefined) return reply(response, 404, 'Session not found');
    let body: unknown;
    try {
      body = JSON.parse(await readBody(request));
      session.transport.receive(body);
    } catch (error) {
      return reply(response, 400, error instanceof Error ? error.message : String(error));
    }
    reply(response, 202, 'Accepted');
  }

  const loopback = await listenOnLoopback((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const handled =
      request.method === 'GET' && url.pathname === '/sse'
        ? openStream(request, response)
        : request.method === 'POST' && url.pathname === '/message'
          ? postMessage(request, response, url)
          : Promise.resolve(reply(response, 404, 'Not Found'));
    handled.catch((error: unknown) => {
      if (!response.headersSent) reply(response, 500, error instanceof Error ? error.message : String(error));
      else response.destroy();
    });
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await Promise.allSettled([...sessions.values()].map(({ server }) => server.close()));
      sessions.clear();
      await loopback.close();
    })();
    return closing;
  };

  return {
    url: `${loopback.origin}/sse`,
    close,
    [Symbol.asyncDispose]: close,
    sessionCount: () => sessions.size,
  };
}
