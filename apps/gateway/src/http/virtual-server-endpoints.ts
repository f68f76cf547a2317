import { createSessionServer, type Logger, type Router } from '@mcp-gateway/core';
import { createSseHandler, type SseHandler } from '@mcp-gateway/transport-sse';
import {
  createStreamableHttpHandler,
  type StreamableHttpHandler,
} from '@mcp-gateway/transport-streamable-http';
import type { CatalogState } from '../catalog/catalog-state.ts';
import { restErrorResponse } from './rest-error.ts';

/** Options of {@link createVirtualServerEndpoints}. */
export interface VirtualServerEndpointsOptions {
  router: Router;
  catalog: CatalogState;
  logger: Logger;
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
  /** Who made a request; a session is only served to the principal that opened it. */
  principalOf?: (request: Request) => string | undefined;
}

interface Endpoints {
  mcp: StreamableHttpHandler;
  sse: SseHandler;
}

/**
 * Each virtual server's own endpoints: `/servers/{id}/mcp` (streamable HTTP, both eras), `/servers/{id}/sse` with
 * `/servers/{id}/message` (legacy SSE), and `/servers/{id}/ws` (WebSocket, routed by the app's upgrade listener).
 * Their clients see only the server's members, under its aliases, through the same router as everyone else.
 * Handlers are made on first use and dropped when the server is deleted or disabled.
 */
export function createVirtualServerEndpoints(options: VirtualServerEndpointsOptions) {
  const { router, catalog, logger } = options;
  const handlers = new Map<string, Endpoints>();

  const endpointsFor = (id: string): Endpoints | undefined => {
    const server = catalog.server(id);
    if (!server) {
      const stale = handlers.get(id);
      if (stale) {
        handlers.delete(id);
        void stale.mcp.close();
        void stale.sse.close();
      }
      return undefined;
    }
    let found = handlers.get(id);
    if (!found) {
      const view = () => catalog.server(id)?.view;
      const serverInfo = { name: server.name, version: '0.1.0' };
      const child = logger.child({ virtualServer: id });
      found = {
        mcp: createStreamableHttpHandler({
          router,
          logger: child,
          serverInfo,
          instructions: server.description,
          view,
          allowedHosts: options.allowedHosts,
          allowedOrigins: options.allowedOrigins,
          principalOf: options.principalOf,
        }),
        sse: createSseHandler({
          ssePath: `/servers/${id}/sse`,
          messagePath: `/servers/${id}/message`,
          logger: child,
          allowedHosts: options.allowedHosts,
          allowedOrigins: options.allowedOrigins,
          principalOf: options.principalOf,
          onSession: (transport) =>
            createSessionServer({ router, logger: child, serverInfo, view, transport: 'sse' }).connect(
              transport,
            ),
        }),
      };
      handlers.set(id, found);
    }
    return found;
  };

  const notFound = (id: string) =>
    restErrorResponse(404, { code: 'not-found', message: `no enabled virtual server with id "${id}"` });

  return {
    /** Serves `/servers/{id}/mcp`. */
    mcp(id: string, request: Request): Promise<Response> {
      const endpoints = endpointsFor(id);
      return endpoints ? endpoints.mcp.fetch(request) : Promise.resolve(notFound(id));
    },
    /** Serves `/servers/{id}/sse` and `/servers/{id}/message`. */
    sse(id: string, request: Request): Promise<Response> {
      const endpoints = endpointsFor(id);
      return endpoints ? endpoints.sse.fetch(request) : Promise.resolve(notFound(id));
    },
    /** The view a WebSocket session on `/servers/{id}/ws` gets, or undefined when there is no such server. */
    viewGetter(id: string) {
      return catalog.server(id) ? () => catalog.server(id)?.view : undefined;
    },
    sessionCount(): number {
      let count = 0;
      for (const endpoints of handlers.values())
        count += endpoints.mcp.sessionCount() + endpoints.sse.sessionCount();
      return count;
    },
    async close(): Promise<void> {
      await Promise.all([...handlers.values()].flatMap((e) => [e.mcp.close(), e.sse.close()]));
      handlers.clear();
    },
  };
}

/** What {@link createVirtualServerEndpoints} returns. */
export type VirtualServerEndpoints = ReturnType<typeof createVirtualServerEndpoints>;
