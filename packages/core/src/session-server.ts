import { randomUUID } from 'node:crypto';
import {
  ProtocolError,
  Server,
  type RequestStateCodec,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { CatalogView } from './catalog-snapshot.ts';
import type { DownstreamSession } from './downstream-session.ts';
import { describeError, RpcError, RpcErrorCode } from './errors.ts';
import { silentLogger, type Logger } from './logger.ts';
import type { ClientCapabilities, Implementation, RpcParams, RpcResult } from './mcp-types.ts';
import type { PendingInteraction, PendingInteractions } from './pending-interactions.ts';
import type { UpstreamProgress } from './upstream.ts';
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
  /**
   * For a virtual server's endpoint: its current view of the catalog (read on every request, so admin changes apply
   * at once). Returning undefined (the virtual server was deleted or disabled) exposes nothing.
   */
  view?: () => CatalogView | undefined;
  /**
   * Era bridging for 2026-07-28 clients: calls whose upstream asks the client for input (elicitation, sampling,
   * roots) stay open here and answer with `input_required`; the retry's `inputResponses` go back upstream. Both
   * must be shared by every per-request server of a handler. Without them, such requests fail upstream.
   */
  interactions?: PendingInteractions;
  /** Seals and verifies `requestState` (HMAC, TTL, bound to the method and principal). */
  requestStateCodec?: RequestStateCodec<InteractionState>;
}

/** What a `requestState` the gateway mints carries: the open call and the round it answers. */
export interface InteractionState {
  call: string;
  round: number;
}

/** What a deleted or disabled virtual server exposes. */
const EMPTY_VIEW: CatalogView = { id: '', tools: new Map(), prompts: new Map(), resources: new Set() };

/** Methods whose modern results may be `input_required`. */
const INTERACTIVE_METHODS = new Set(['tools/call', 'prompts/get', 'resources/read']);

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
  const codec = options.requestStateCodec;
  const server = new Server(options.serverInfo ?? { name: 'mcp-gateway', version: '0.1.0' }, {
    capabilities: { ...router.capabilities(), logging: {} },
    instructions: options.instructions,
    ...(codec
      ? { requestState: { verify: (state: string, ctx: ServerContext) => codec.verify(state, ctx) } }
      : {}),
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
        if (
          ctx.mcpReq.envelope !== undefined &&
          options.interactions &&
          codec &&
          INTERACTIVE_METHODS.has(method)
        ) {
          const modern = await handleInteractive({ method, params, ctx });
          if (modern) return modern;
        }
        return await router.handle(method, params, {
          signal: ctx.mcpReq.signal,
          transport: options.transport,
          view: currentView(),
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

  /**
   * A 2026-07-28 request that may need client input: answered from (or starting) a pending interaction. Returns
   * undefined when the client can give no input (it declared none of elicitation, sampling, roots): plain routing.
   */
  async function handleInteractive(request: {
    method: string;
    params: RpcParams | undefined;
    ctx: ServerContext;
  }): Promise<RpcResult | undefined> {
    const { method, params, ctx } = request;
    const interactions = options.interactions as PendingInteractions;
    const meta = (ctx.mcpReq._meta ?? params?._meta) as { progressToken?: string | number } | undefined;
    const progressToken = meta?.progressToken;
    // Progress of the upstream call goes to whichever round is open now, with that round's token.
    const progressTo = (progress: UpstreamProgress) => {
      if (progressToken === undefined) return;
      ctx.mcpReq
        .notify({ method: 'notifications/progress', params: { progressToken, ...progress } })
        .catch(() => undefined);
    };
    const state = ctx.mcpReq.requestState<InteractionState>();
    let call: PendingInteraction;
    if (state !== undefined) {
      const found = typeof state === 'object' && state !== null ? interactions.get(state.call) : undefined;
      if (!found || found.done || found.round !== state.round) {
        throw new RpcError(
          RpcErrorCode.InvalidParams,
          'This call is no longer waiting for input here (it finished, expired, was already answered, or started on another gateway replica); start it again',
        );
      }
      call = found;
      call.round += 1;
      call.progress = progressTo;
      call.answer(ctx.mcpReq.inputResponses);
    } else {
      const capabilities: ClientCapabilities = server.getClientCapabilities() ?? {};
      if (!capabilities.elicitation && !capabilities.sampling && !capabilities.roots) return undefined;
      call = interactions.create();
      call.progress = progressTo;
      const interaction = call;
      const clientInfo = server.getClientVersion();
      call.start(async (ask) => {
        const caller: DownstreamSession = {
          id: `mrtr-${interaction.id}`,
          capabilities: () => capabilities,
          clientInfo: () => clientInfo,
          notify: async () => undefined,
          request: (m, p) => ask(m, p),
        };
        const detach = router.attachSession(caller);
        try {
          return await router.handle(method, params, {
            signal: interaction.controller.signal,
            view: currentView(),
            session: caller,
            transport: options.transport,
            onProgress: (progress) => interaction.progress?.(progress),
          });
        } finally {
          detach();
        }
      });
    }
    const step = await call.next();
    if (step.kind === 'result') {
      interactions.delete(call.id);
      return step.result;
    }
    if (step.kind === 'error') {
      interactions.delete(call.id);
      throw step.error;
    }
    return {
      resultType: 'input_required',
      inputRequests: Object.fromEntries(
        step.asks.map((a) => [a.key, { method: a.method, params: a.params ?? {} }]),
      ),
      requestState: await (codec as RequestStateCodec<InteractionState>).mint(
        { call: call.id, round: call.round },
        ctx,
      ),
    };
  }

  function currentView(): CatalogView | undefined {
    if (!options.view) return undefined;
    return options.view() ?? EMPTY_VIEW;
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
