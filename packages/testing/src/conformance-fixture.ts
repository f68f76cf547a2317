import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { getRequestListener } from '@hono/node-server';
import {
  hostHeaderValidationResponse,
  localhostAllowedHostnames,
  localhostAllowedOrigins,
  originValidationResponse,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import type { EventStore, JSONRPCMessage, McpServer } from '@modelcontextprotocol/server';
import { createConformanceServer } from './conformance-server.ts';
import { listenOnLoopback } from './loopback-server.ts';
import type { FixtureCommand } from './stdio-fixture.ts';

/** Options for {@link startConformanceHttpFixture}. */
export interface ConformanceHttpFixtureOptions {
  /** Port to listen on (127.0.0.1); default an ephemeral one. */
  port?: number;
}

/** The conformance fixture served over streamable HTTP; dispose it (`await using`) to stop it. */
export interface ConformanceHttpFixture {
  /** `http://127.0.0.1:<port>/mcp`. */
  url: string;
  /** Ends every session and the listener, destroying open sockets. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** SSE `retry` hint (ms) sent in priming events, so a client whose stream we close comes back quickly. */
const RETRY_INTERVAL_MS = 500;
/** Events kept per session for `Last-Event-ID` replay; older ones are dropped. */
const MAX_EVENTS_PER_SESSION = 1_000;

interface Session {
  server: McpServer;
  transport: WebStandardStreamableHTTPServerTransport;
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: '2.0', error: { code, message }, id: null }, { status });
}

/**
 * A per-session in-memory event store: enough for SSE resumability (SEP-1699 polling, `Last-Event-ID`).
 * Event ids are `<streamId>:<n>`; priming events (stored as `{}`) are never replayed.
 */
function createEventStore(): EventStore {
  const events: Array<{ id: string; streamId: string; message: JSONRPCMessage }> = [];
  let counter = 0;
  const streamOf = (eventId: string): string | undefined =>
    events.find((event) => event.id === eventId)?.streamId;
  return {
    storeEvent(streamId, message) {
      counter += 1;
      const id = `${streamId}:${counter}`;
      events.push({ id, streamId, message });
      if (events.length > MAX_EVENTS_PER_SESSION) events.shift();
      return Promise.resolve(id);
    },
    getStreamIdForEventId(eventId) {
      return Promise.resolve(streamOf(eventId));
    },
    async replayEventsAfter(lastEventId, { send }) {
      const index = events.findIndex((event) => event.id === lastEventId);
      const streamId = events[index]?.streamId;
      if (streamId === undefined) throw new Error(`Unknown event id ${lastEventId}`);
      for (const event of events.slice(index + 1)) {
        if (event.streamId === streamId && 'jsonrpc' in event.message) await send(event.id, event.message);
      }
      return streamId;
    },
  };
}

/**
 * Serves {@link createConformanceServer} over streamable HTTP at `/mcp` on 127.0.0.1: stateful sessions
 * (one server per `initialize`, routed by `Mcp-Session-Id`, ended by `DELETE`), an event store per session
 * for resumability, and DNS-rebinding protection: a Host other than localhost/127.0.0.1/[::1], or a present
 * Origin with another hostname, gets 403.
 */
export async function startConformanceHttpFixture(
  options: ConformanceHttpFixtureOptions = {},
): Promise<ConformanceHttpFixture> {
  const path = '/mcp';
  const sessions = new Map<string, Session>();

  async function handle(request: Request): Promise<Response> {
    const rejected =
      hostHeaderValidationResponse(request, localhostAllowedHostnames()) ??
      originValidationResponse(request, localhostAllowedOrigins());
    if (rejected !== undefined) return rejected;
    if (new URL(request.url).pathname !== path) return new Response('Not Found', { status: 404 });

    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId !== null) {
      const session = sessions.get(sessionId);
      if (session === undefined) return jsonRpcError(404, -32001, 'Session not found');
      return session.transport.handleRequest(request);
    }
    if (request.method !== 'POST')
      return jsonRpcError(400, -32000, 'Bad Request: Mcp-Session-Id header is required');

    // No session yet: this must be an initialize request, which the transport checks.
    const server = createConformanceServer();
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: createEventStore(),
      retryInterval: RETRY_INTERVAL_MS,
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
      sessions.clear();
      await loopback.close();
    })();
    return closing;
  };

  return { url: `${loopback.origin}${path}`, close, [Symbol.asyncDispose]: close };
}

const binPath = fileURLToPath(new URL('./bin/conformance-stdio.ts', import.meta.url));
// Resolved from this package, so the command works whatever the caller's working directory is.
const tsxLoaderPath = createRequire(import.meta.url).resolve('tsx/esm');

/**
 * The command that runs the conformance fixture over stdio, with the current Node and tsx's ESM loader.
 * It logs only to stderr (`conformance fixture started pid=<pid>`) and exits when stdin closes.
 */
export function conformanceStdioCommand(): FixtureCommand {
  return { command: process.execPath, args: ['--import', tsxLoaderPath, binPath] };
}
