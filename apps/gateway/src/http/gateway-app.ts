import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { sql, type Kysely } from 'kysely';
import { checkHostAndOrigin, type Logger, type Router } from '@mcp-gateway/core';
import type { GatewayStore, RegistryDatabase, SecretCodec } from '@mcp-gateway/registry';
import { runWithInboundHeaders } from '../upstreams/inbound-headers.ts';
import type { AuditLog, CallStats, Metrics } from '@mcp-gateway/observability';
import type { SseHandler } from '@mcp-gateway/transport-sse';
import type { StreamableHttpHandler } from '@mcp-gateway/transport-streamable-http';
import type { CatalogState } from '../catalog/catalog-state.ts';
import type { UpstreamManager } from '../upstreams/upstream-manager.ts';
import type { VirtualServerEndpoints } from './virtual-server-endpoints.ts';
import { GatewayError } from '@mcp-gateway/core';
import {
  createPromptStore,
  createResourceStore,
  createToolStore,
  createVirtualServerStore,
  type AuditStore,
} from '@mcp-gateway/registry';
import { createAuditRoutes } from './audit-routes.ts';
import { adapterToolInput, createAdminActions, parseToolDefinition } from './admin-actions.ts';
import { createCatalogRoutes } from './catalog-routes.ts';
import { createConfigRoutes } from './config-routes.ts';
import { createApiDocsRoutes } from './docs-page.ts';
import { createServersRoutes, createTagsRoutes } from './servers-routes.ts';
import { createGatewaysRoutes } from './gateways-routes.ts';
import { renderRestError, restError } from './rest-error.ts';
import { anonymousPrincipal, currentAuthContext, type PinnedUpstream } from '@mcp-gateway/auth';
import { createAuthMiddleware } from '../auth/auth-middleware.ts';
import { createAuthzRoutes } from '../auth/authz-routes.ts';
import type { GatewayAuth } from '../auth/gateway-auth.ts';
import { createOAuthMetadataRoutes } from '../auth/oauth-metadata-routes.ts';
import { requestPrincipal, type RestAccess } from '../auth/request-access.ts';
import { createToolPinRoutes } from '../auth/tool-pin-routes.ts';
import { createTokensRoutes } from './tokens-routes.ts';
import { createUsersRoutes } from './users-routes.ts';

/** What the HTTP app is composed of. Every part is a library object; this file only wires routes. */
export interface GatewayAppOptions {
  logger: Logger;
  db: Kysely<RegistryDatabase>;
  store: GatewayStore;
  manager: UpstreamManager;
  router: Router;
  mcp: StreamableHttpHandler;
  sse: SseHandler;
  rpc: (request: Request) => Promise<Response>;
  metrics: Metrics;
  stats: CallStats;
  catalog: CatalogState;
  virtualServers: VirtualServerEndpoints;
  audit: AuditLog;
  auditStore: AuditStore;
  /** DNS-rebinding protection for every route: allowed `Host` names (empty: any) and browser origins. */
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
  /** Largest REST request body [1 MiB]. */
  maxRestBodyBytes?: number;
  /** Authentication, authorization, rate limits and tool pins. */
  auth: GatewayAuth;
  /** The gateway's external base URL. */
  baseUrl: () => string;
  /** Upstreams under tool pinning, by gateway id. */
  pinned: () => ReadonlyMap<string, { name: string; upstream: PinnedUpstream }>;
  /** Seals and opens upstream secrets stored in the registry. */
  secrets?: SecretCodec;
}

/** Who a request with no recorded principal is treated as: nobody in particular (fail closed). */
const NOBODY = anonymousPrincipal();

type Env = { Variables: { requestId: string; logger: Logger } };

/** The gateway's Hono app: `/mcp`, `/health`, `/ready` and the REST API under `/v1`. */
export function createGatewayApp(options: GatewayAppOptions): Hono<Env> {
  const { logger, db, store, manager, router, mcp, sse, rpc } = options;
  const allowedHosts = new Set(options.allowedHosts);
  const allowedOrigins = new Set(options.allowedOrigins);
  const app = new Hono<Env>();

  app.use(async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    const requestLogger = logger.child({ requestId });
    c.set('requestId', requestId);
    c.set('logger', requestLogger);
    const started = performance.now();
    await next();
    c.header('x-request-id', requestId);
    requestLogger.info(
      {
        method: c.req.method,
        path: c.req.path,
        principal: requestPrincipal(c.req.raw)?.id,
        status: c.res.status,
        sessionId: c.req.header('mcp-session-id'),
        durationMs: Math.round((performance.now() - started) * 100) / 100,
      },
      'request',
    );
  });

  // A foreign Host (DNS rebinding) or a foreign browser Origin is refused on every route, the REST API included:
  // otherwise any web page could register a stdio command through a "simple" cross-site POST.
  app.use(async (c, next) => {
    const refused = checkHostAndOrigin(c.req.raw, allowedHosts, allowedOrigins);
    if (refused) return refused;
    await next();
  });

  // Who is calling, before any body is read; see auth-middleware.ts for what is checked where.
  const auth = options.auth;
  app.use(
    createAuthMiddleware({
      auth,
      baseUrl: options.baseUrl,
      virtualServer: (id) => options.catalog.server(id),
      // Inbound headers travel with the request so an upstream's header allowlist can pick from them.
      aroundMcp: (request, next) => runWithInboundHeaders(request.headers, next),
    }),
  );
  const access: RestAccess = {
    principal: (request) => requestPrincipal(request) ?? NOBODY,
    policy: auth.policy,
  };

  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: options.maxRestBodyBytes ?? 1024 * 1024,
      onError: (c) => restError(c, 413, { code: 'invalid-input', message: 'request body too large' }),
    }),
  );
  app.use('/v1/*', async (c, next) => {
    if (['POST', 'PUT', 'PATCH'].includes(c.req.method)) {
      const type = c.req.header('content-type') ?? '';
      const yamlAllowed = c.req.path === '/v1/config' && /^application\/(x-)?yaml\s*(;|$)/i.test(type);
      if (!/^application\/json\s*(;|$)/i.test(type) && !yamlAllowed) {
        return restError(c, 415, {
          code: 'invalid-input',
          message: 'send the body as JSON with Content-Type: application/json',
        });
      }
    }
    await next();
  });

  app.onError((error, c) =>
    renderRestError(c, error, (fields) => c.get('logger').error(fields, 'request failed')),
  );
  app.notFound((c) =>
    restError(c, 404, { code: 'not-found', message: `no route for ${c.req.method} ${c.req.path}` }),
  );

  app.all('/mcp', (c) => mcp.fetch(c.req.raw));
  app.all('/sse', (c) => sse.fetch(c.req.raw));
  app.all('/message', (c) => sse.fetch(c.req.raw));
  app.all('/rpc', (c) => rpc(c.req.raw));
  app.all('/servers/:id/mcp', (c) => options.virtualServers.mcp(c.req.param('id'), c.req.raw));
  app.all('/servers/:id/sse', (c) => options.virtualServers.sse(c.req.param('id'), c.req.raw));
  app.all('/servers/:id/message', (c) => options.virtualServers.sse(c.req.param('id'), c.req.raw));
  app.get('/metrics', (c) => options.metrics.handler(c.req.raw));
  app.get('/v1/stats', (c) => c.json(options.stats.all()));

  app.get('/health', (c) => c.json({ status: 'ok' }));

  app.get('/ready', async (c) => {
    const checks: Record<string, { ok: boolean; error?: string }> = {};
    try {
      await withTimeout(sql`select 1`.execute(db), 2_000, 'the database did not answer within 2 s');
      checks.database = { ok: true };
    } catch (error) {
      checks.database = { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    const pending = manager.pendingFirstConnect();
    checks.catalog = !manager.loaded()
      ? { ok: false, error: 'the registry has not been loaded yet' }
      : pending.length > 0
        ? { ok: false, error: `still connecting to ${pending.map((name) => `"${name}"`).join(', ')}` }
        : { ok: true };
    const ready = Object.values(checks).every((check) => check.ok);
    const snapshot = router.snapshot();
    return c.json(
      {
        status: ready ? 'ready' : 'not-ready',
        checks,
        catalog: {
          tools: snapshot.tools.length,
          prompts: snapshot.prompts.length,
          resources: snapshot.resources.length,
        },
      },
      ready ? 200 : 503,
    );
  });

  // Every admin write publishes a change; each is also an audit entry naming who made it.
  const publish = (change: Parameters<CatalogState['publish']>[0]) => {
    options.audit.recordChange({
      actor: currentAuthContext()?.principal.id,
      entityType: change.kind,
      entityId: change.id,
      action: change.kind === 'config' ? 'import' : 'update',
      after: { version: change.version },
    });
    return options.catalog.publish(change);
  };
  app.route(
    '/v1/audit',
    createAuditRoutes({ store: options.auditStore, flush: () => options.audit.flush() }),
  );
  app.route('/v1/config', createConfigRoutes({ db, secrets: options.secrets, publish }));
  const tools = createToolStore({ db, secrets: options.secrets });
  const catalogRoutes = createCatalogRoutes({
    tools,
    prompts: createPromptStore({ db }),
    resources: createResourceStore({ db }),
    publish,
    logger,
    access,
    gateways: store,
    createTool: async (body, ownership) => {
      const parsed = parseToolDefinition(body);
      if (!parsed.ok) {
        const details = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
        throw new GatewayError(
          'invalid-input',
          `invalid ${String(body.integration)} tool: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`,
          { details },
        );
      }
      return tools.create({
        ...adapterToolInput(parsed.definition, (body as { tags?: string[] }).tags ?? []),
        ...ownership,
      });
    },
  });
  // Admin actions first, so /v1/tools/:id/invoke is not taken by a tool id route.
  app.route('/v1', createAdminActions({ router, manager, gateways: store, tools, publish, access }));
  app.route('/v1/tools', catalogRoutes.tools);
  app.route('/v1/prompts', catalogRoutes.prompts);
  app.route('/v1/resources', catalogRoutes.resources);
  app.route(
    '/v1/servers',
    createServersRoutes({
      servers: createVirtualServerStore({ db }),
      publish,
      logger,
      access,
      endpointsOf: (id) => ({
        mcp: `/servers/${id}/mcp`,
        sse: `/servers/${id}/sse`,
        ws: `/servers/${id}/ws`,
      }),
    }),
  );
  app.route('/v1/tags', createTagsRoutes({ db }));
  app.route('/', createApiDocsRoutes({ title: 'MCP Gateway', version: '0.1.0' }));
  app.route(
    '/',
    createOAuthMetadataRoutes({
      baseUrl: options.baseUrl,
      authorizationServers: auth.authorizationServers,
      mcpScopes: auth.mcpScopes,
      hasVirtualServer: (id) => options.catalog.server(id) !== undefined,
    }),
  );
  app.route(
    '/v1/authz',
    createAuthzRoutes({
      policy: auth.policy,
      users: auth.users,
      access,
      revokeJwt: (jti, expiresAt) => auth.revokeJwt(jti, expiresAt),
    }),
  );
  app.route('/v1/tokens', createTokensRoutes({ tokens: auth.tokens, access, audit: options.audit }));
  app.route(
    '/v1/users',
    createUsersRoutes({
      users: auth.users,
      access,
      audit: options.audit,
      revokeTokensOf: async (userId) => {
        const owned = (await auth.tokens.list({ ownerId: userId })).filter(
          (token) => token.revokedAt === null,
        );
        for (const token of owned) await auth.tokens.revoke(token.id);
        return owned.length;
      },
    }),
  );
  if (auth.pins) {
    const pinRoutes = createToolPinRoutes({
      pins: auth.pins,
      upstreams: options.pinned,
      access,
      onApproved: (entry) =>
        options.audit.recordChange({
          actor: entry.approvedBy,
          entityType: 'tool-pin',
          entityId: `${entry.gatewayId}:${entry.toolName}`,
          action: 'update',
          after: { approvedHash: entry.hash },
        }),
    });
    app.route('/v1/tool-pins', pinRoutes.pins);
    app.route('/v1/tools', pinRoutes.approve);
  }
  app.route(
    '/v1/gateways',
    createGatewaysRoutes({
      store,
      manager,
      stats: options.stats,
      publish: (change) => options.catalog.publish(change),
      audit: options.audit,
      access,
    }),
  );

  return app;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
