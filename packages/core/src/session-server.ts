import { randomUUID } from 'node:crypto';
import { ProtocolError, Server, type ServerContext } from '@modelcontextprotocol/server';
import type { DownstreamSession } from './downstream-session.ts';
import { describeError, RpcError, RpcErrorCode } from './errors.ts';
import { silentLogger, type Logger } from './logger.ts';
import type { Implementation, RpcParams } from './mcp-types.ts';
import { ROUTED_METHODS, type Router } from './router.ts';

/** Options of {@link createSessionServer}. */
export interface SessionServerOptions {
  router: Router;
  logger?: Logger;
  /** The identity the gateway presents to clients [mcp-gateway]. */
  serverInfo?: Implementation;
  instructions?: string;
  /** The session's id when the transport has none of its own (stdio, WebSocket) [a random UUID]. */
  sessionId?: string;
  /** The downstream transport's name, passed to the router with every request (metrics, logs). */
  transport?: string;
}

/** Client notifications the router forwards upstream. */
const FORWARDED_CLIENT_NOTIFICATIONS = ['notifications/roots/list_changed'] as const;

/**
 * Builds the SDK `Server` that serves one downstream connection, whatever its transport: every MCP method is
 * delegated to the router; once the client has initialized, the connection is attached to the router as a
 * {@link DownstreamSession} (list changes, resource updates and log messages reach it; server→client requests from
 * upstreams reach it), and it is detached when the connection closes. Transports only move bytes.
 */
export function createSessionServer(options: SessionServerOptions): Server {
  const { router } = options;
  const logger = options.logger ?? silentLogger;
  const server = new Server(options.serverInfo ?? { name: 'mcp-gateway', version: '0.1.0' }, {
    capabilities: { ...router.capabilities(), logging: {} },
    instructions: options.instructions,
  });
  let fallbackId: string | undefined = options.sessionId;
  const sessionId = () => server.transport?.sessionId ?? (fallbackId ??= randomUUID());

  const session: DownstreamSession = {
    get id() {
      return sessionId();
    },
    capabilities: () => server.getClientCapabilities(),
    clientInfo: () => server.getClientVersion(),
    notify: (method, params) => server.notification({ method, params }),
    request: (method, params, requestOptions) =>
      server.request({ method: method as 'roots/list', params }, { signal: requestOptions?.signal }),
  };

  for (const method of ROUTED_METHODS) {
    const handler = async (request: { params?: RpcParams }, ctx: ServerContext) => {
      const params = request.params;
      // The SDK lifts `_meta` out of params into the context; the progress token lives there.
      const meta = (ctx.mcpReq._meta ?? params?._meta) as { progressToken?: string | number } | undefined;
      const progressToken = meta?.progressToken;
      try {
        return await router.handle(method, params, {
          signal: ctx.mcpReq.signal,
          transport: options.transport,
          session,
          sendRequest: (m, p, o) =>
            ctx.mcpReq.send({ method: m as 'roots/list', params: p }, { signal: o?.signal }),
          onProgress:
            progressToken === undefined
              ? undefined
              : (progress) => {
                  ctx.mcpReq
                    .notify({ method: 'notifications/progress', params: { progressToken, ...progress } })
                    .catch(() => undefined);
                },
        });
      } catch (error) {
        throw toProtocolError(error, logger);
      }
    };
    // The router returns each method's result as the upstream sent it; the SDK's per-method types do not apply.
    server.setRequestHandler(method, handler as never);
  }

  for (const method of FORWARDED_CLIENT_NOTIFICATIONS) {
    server.setNotificationHandler(method, (notification: { params?: RpcParams }) => {
      router.clientNotification(session, method, notification.params);
    });
  }

  let detach: (() => void) | undefined;
  server.oninitialized = () => {
    detach ??= router.attachSession(session);
    logger.debug({ sessionId: session.id, client: server.getClientVersion()?.name }, 'client initialized');
  };
  const previousOnClose = server.onclose;
  server.onclose = () => {
    previousOnClose?.();
    detach?.();
    detach = undefined;
  };
  return server;
}

/** Turns what the router throws into the SDK's wire error; anything unexpected is logged and sent as -32603. */
export function toProtocolError(error: unknown, logger: Logger = silentLogger): ProtocolError {
  if (error instanceof RpcError) return new ProtocolError(error.code, error.message, error.data);
  if (ProtocolError.isInstance(error)) return error;
  logger.error({ err: describeError(error) }, 'unexpected error while handling a request');
  return new ProtocolError(RpcErrorCode.InternalError, 'Internal error');
}
