import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runWithInboundHeaders } from './upstreams/inbound-headers.ts';
import { serve, type ServerType } from '@hono/node-server';
import type { KyselyPlugin } from 'kysely';
import {
  createRouter,
  createSessionServer,
  describeError,
  silentLogger,
  type Logger,
  type Router,
} from '@mcp-gateway/core';
import {
  createAuditStore,
  createChangeFeed,
  createDatabase,
  createGatewayStore,
  type Database,
  type GatewayStore,
} from '@mcp-gateway/registry';
import { createRestUpstream, parseOutboundAllowList } from '@mcp-gateway/adapter-rest';
import { createCatalogState, type CatalogState } from './catalog/catalog-state.ts';
import { createLocalUpstream } from './catalog/local-upstream.ts';
import { createVirtualServerEndpoints } from './http/virtual-server-endpoints.ts';
import {
  createAuditLog,
  createCallStats,
  createMetrics,
  createTracing,
  type AuditLog,
  type CallStats,
  type Metrics,
} from '@mcp-gateway/observability';
import { createSseHandler } from '@mcp-gateway/transport-sse';
import { createStreamableHttpHandler } from '@mcp-gateway/transport-streamable-http';
import { createWebSocketServer } from '@mcp-gateway/transport-websocket';
import { ConfigError } from './config/index.ts';
import { createRpcHandler } from './http/rpc-handler.ts';
import { instrumentRouter } from './observability/instrument-router.ts';
import { applyConfigFile, type ConfigFile, type GatewayInput, type RuntimeConfig } from './config/index.ts';
import { createGatewayApp } from './http/gateway-app.ts';
import { createUpstreamFactory } from './upstreams/upstream-factory.ts';
import {
  assertSafeBinding,
  currentAuthContext,
  runWithAuthContext,
  withToolPins,
  type AuthContext,
  type PinnedUpstream,
} from '@mcp-gateway/auth';
import { authorizeRouter } from './auth/authorize-router.ts';
import { assertRegistrySecretsReadable, registrySecretsFromEnv } from './secrets/registry-secret-codec.ts';
import { authMethodsOf, createGatewayAuth, type GatewayAuth } from './auth/gateway-auth.ts';
import { requestPrincipal } from './auth/request-access.ts';
import {
  createUpstreamManager,
  effectiveNamespace,
  type UpstreamManager,
} from './upstreams/upstream-manager.ts';

/** Options of {@link startGateway}. */
export interface StartGatewayOptions {
  config: RuntimeConfig;
  logger?: Logger;
  /** Upstreams to apply at start (from the config file): created when missing, updated when changed, by name. */
  gateways?: readonly GatewayInput[];
  /** The config file's catalog sections (tools, prompts, resources, virtual servers), applied with the gateways. */
  catalog?: ConfigFile['catalog'];
  /** Where the config came from, for messages and the audit actor [config]. */
  configSource?: string;
  /** Kysely plugins for the registry database (tests count queries with one). */
  databasePlugins?: KyselyPlugin[];
  /** Upstream keep-alive ping interval in ms; 0 turns it off [30000]. */
  keepAliveMs?: number;
  /** Items per page of merged lists [1000]. */
  pageSize?: number;
  /** Largest upstream response accepted [32 MiB]; beyond it the call fails naming the upstream. */
  maxUpstreamResponseBytes?: number;
  /** Environment read for OpenTelemetry (`OTEL_*`) [process.env]. */
  env?: Record<string, string | undefined>;
}

/** A running gateway. Dispose of it (`await using`) or call `close()` to stop everything it started. */
export interface RunningGateway {
  /** Base URL, e.g. `http://127.0.0.1:4444`. */
  url: string;
  /** The MCP endpoint, e.g. `http://127.0.0.1:4444/mcp`. */
  mcpUrl: string;
  port: number;
  database: Database;
  store: GatewayStore;
  router: Router;
  manager: UpstreamManager;
  metrics: Metrics;
  stats: CallStats;
  audit: AuditLog;
  catalog: CatalogState;
  /** Authentication and authorization: tokens, users, the policy, rate limits, tool pins. */
  auth: GatewayAuth;
  /** Applies a (changed) config file now and tells every replica; `--watch` calls it. */
  applyConfig(file: ConfigFile, source: string): Promise<void>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '::1', '[::1]'];

/**
 * Starts the gateway: opens the registry (PGlite in the data dir, or Postgres), runs migrations, applies the config
 * file's upstreams, connects every enabled upstream in the background, and serves HTTP. It resolves once the port
 * is listening; upstreams become ready on their own (see `/ready` and `GET /v1/gateways`).
 */
export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const { config } = options;
  const logger = options.logger ?? silentLogger;
  const env = options.env ?? process.env;
  // Before anything is opened: a gateway anyone on the network could use without credentials never starts.
  assertSafeBinding({
    host: config.host,
    authConfigured: authMethodsOf(config, env).length > 0,
    allowUnauthenticated: config.allowUnauthenticated,
  });
  const database = await createDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    plugins: options.databasePlugins,
    logger,
  });
  // Upstream headers, env and REST tool credentials are sealed at rest with MCP_GATEWAY_SECRET_KEY.
  const secrets = registrySecretsFromEnv(env, logger);
  const store = createGatewayStore({ db: database.db, secrets: secrets.codec });
  let auth: GatewayAuth;
  // The policy needs the catalog, which is made later (it needs the router the policy hooks into).
  const catalogRef: { current?: CatalogState } = {};
  try {
    auth = await createGatewayAuth({
      db: database.db,
      config,
      env,
      logger,
      visibilityOf: (kind, name) => catalogRef.current?.visibilityOf(kind, name),
    });
  } catch (error) {
    await database.close();
    throw error;
  }
  if (!auth.configured) {
    logger.warn(
      { host: config.host },
      'no authentication configured: every local caller is an admin (set MCP_GATEWAY_AUTH, MCP_GATEWAY_JWT_SECRET or MCP_GATEWAY_JWT_JWKS_URL to require credentials)',
    );
  }
  const metrics = createMetrics({ logger });
  const stats = createCallStats();
  const tracing = createTracing({
    env: options.env ?? process.env,
    logger: logger.child({ component: 'tracing' }),
  });
  const auditStore = createAuditStore({ db: database.db });
  const audit = createAuditLog({
    write: (entries) => auditStore.insertMany(entries),
    logger: logger.child({ component: 'audit' }),
    actorOf: () => currentAuthContext()?.principal.id,
  });
  const router = createRouter({
    logger: logger.child({ component: 'router' }),
    pageSize: options.pageSize,
    // Tracing last: a span opened before another hook refuses the call would never end.
    // Policy and rate limits first: a refused call never reaches the upstream.
    hooks: [...auth.hooks, metrics.hooks, stats.hooks, audit.hooks, tracing.hooks],
  });
  const served = instrumentRouter(auth.configured ? authorizeRouter(router, auth.policy) : router, {
    logger: logger.child({ component: 'mcp' }),
    metrics,
    tracing,
  });
  const upstreamFactory = createUpstreamFactory({
    logger: logger.child({ component: 'upstream' }),
    defaultTimeoutMs: config.upstreamTimeoutMs,
    fetch: tracing.enabled ? tracing.injectFetch(globalThis.fetch) : undefined,
    maxResponseBytes: options.maxUpstreamResponseBytes,
    keepAliveMs: options.keepAliveMs,
  });
  // With tool pinning on, every MCP upstream lists only approved tool definitions.
  const pinned = new Map<string, { name: string; upstream: PinnedUpstream }>();
  const manager = createUpstreamManager({
    router,
    logger,
    createUpstream: (record) => {
      const upstream = upstreamFactory(record);
      if (!auth.pins) return upstream;
      const wrapped = withToolPins(upstream, auth.pins, { logger: logger.child({ component: 'tool-pins' }) });
      pinned.set(record.id, { name: record.name, upstream: wrapped });
      return {
        ...wrapped,
        async close() {
          if (pinned.get(record.id)?.upstream === wrapped) pinned.delete(record.id);
          await wrapped.close();
        },
      };
    },
  });

  let server: ServerType | undefined;
  const upgradeAuth = new WeakMap<object, AuthContext>();
  // The external base URL: --public-url, else the address the server listens on (known once it listens).
  let listenUrl = '';
  const baseUrl = () => config.publicUrl ?? listenUrl;
  const allowedHosts = LOOPBACK_HOSTS.includes(config.host) ? ['127.0.0.1', 'localhost', '[::1]'] : [];
  const mcpLogger = logger.child({ component: 'mcp' });
  // A session belongs to the principal that opened it: anyone else using its id gets the unknown-session 404.
  const principalOf = (request: Request) => requestPrincipal(request)?.id;
  const mcp = createStreamableHttpHandler({
    router: served,
    logger: mcpLogger,
    allowedHosts,
    allowedOrigins: config.allowedOrigins,
    principalOf,
  });
  const sse = createSseHandler({
    logger: logger.child({ component: 'sse' }),
    allowedHosts,
    allowedOrigins: config.allowedOrigins,
    principalOf,
    onSession: (transport) =>
      createSessionServer({ router: served, logger: mcpLogger, transport: 'sse' }).connect(transport),
  });
  const rpc = createRpcHandler({ router: served, logger: logger.child({ component: 'rpc' }) });
  const feed = await createChangeFeed({ database, logger: logger.child({ component: 'change-feed' }) });
  const local = createLocalUpstream();
  const rest = createRestUpstream({
    id: 'rest',
    name: 'rest',
    tools: [],
    outboundAllow: parseOutboundAllowList(options.env ?? process.env),
    logger: logger.child({ component: 'rest-tools' }),
  });
  const catalog = createCatalogState({
    database,
    feed,
    manager,
    local,
    rest,
    logger: logger.child({ component: 'catalog' }),
    secrets: secrets.codec,
    router,
  });
  catalogRef.current = catalog;
  const virtualServers = createVirtualServerEndpoints({
    router: served,
    catalog,
    logger: mcpLogger,
    allowedHosts,
    allowedOrigins: config.allowedOrigins,
    principalOf,
  });
  const ws = createWebSocketServer({
    logger: logger.child({ component: 'websocket' }),
    allowedHosts,
    allowedOrigins: config.allowedOrigins,
    onSession: (transport, context) => {
      const path = new URL(context.request.url ?? '/', 'http://gateway').pathname;
      const serverId = /^\/servers\/([^/]+)\/ws$/.exec(path)?.[1];
      const connected = createSessionServer({
        router: served,
        logger: mcpLogger,
        sessionId: context.sessionId,
        transport: 'websocket',
        view: serverId === undefined ? undefined : () => catalog.server(serverId)?.view,
      }).connect(transport);
      // Frames arrive outside any HTTP request: each one runs as the principal that opened the socket.
      const authContext = upgradeAuth.get(context.request);
      const headers = upgradeHeaders(context.request);
      const handle = transport.onmessage;
      if (handle) {
        transport.onmessage = (message, extra) =>
          runWithInboundHeaders(headers, () =>
            authContext
              ? runWithAuthContext(authContext, () => handle.call(transport, message, extra))
              : handle.call(transport, message, extra),
          );
      }
      return connected;
    },
  });

  try {
    assertDistinctNamespaces(options.gateways ?? []);
    await assertRegistrySecretsReadable(database.db, secrets);
    if ((options.gateways?.length ?? 0) > 0 || options.catalog) {
      const result = await applyConfigFile(
        database.db,
        { gateways: [...(options.gateways ?? [])], catalog: options.catalog },
        { source: options.configSource ?? 'config', secrets: secrets.codec },
      );
      logger.info({ ...result }, 'applied the config file');
    }
    await catalog.load();
    const app = createGatewayApp({
      logger,
      db: database.db,
      store,
      manager,
      router,
      mcp,
      sse,
      rpc,
      metrics,
      stats,
      catalog,
      virtualServers,
      audit,
      auditStore,
      allowedHosts,
      allowedOrigins: config.allowedOrigins,
      auth,
      baseUrl,
      pinned: () => pinned,
      secrets: secrets.codec,
    });
    server = await new Promise<ServerType>((resolve, reject) => {
      const listening = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () =>
        resolve(listening),
      );
      listening.once('error', reject);
    });
    // Native WebSocket at /ws (subprotocol `mcp`): upgrades bypass Hono and go straight to the WebSocket server.
    server.on('upgrade', (request, socket, head) => {
      const path = new URL(request.url ?? '/', 'http://gateway').pathname;
      const serverId = /^\/servers\/([^/]+)\/ws$/.exec(path)?.[1];
      if (path !== '/ws' && (serverId === undefined || !virtualServers.viewGetter(serverId))) {
        socket.destroy();
        return;
      }
      const base = baseUrl();
      const resource = serverId === undefined ? `${base}/mcp` : `${base}/servers/${serverId}/mcp`;
      auth
        .authenticateUpgrade(
          { url: request.url ?? '/', headers: upgradeHeaders(request) },
          { resource, virtualServerId: serverId },
        )
        .then((result) => {
          if ('status' in result) {
            const status = result.status === 401 ? '401 Unauthorized' : '403 Forbidden';
            socket.end(
              `HTTP/1.1 ${status}\r\nWWW-Authenticate: ${result.wwwAuthenticate}\r\n` +
                `Content-Type: application/json\r\nConnection: close\r\n\r\n` +
                JSON.stringify({ error: { code: result.error ?? 'unauthorized', message: result.message } }),
            );
            return;
          }
          const server = serverId === undefined ? undefined : catalog.server(serverId);
          if (server && !auth.policy.canSee(result.principal, server)) {
            socket.destroy();
            return;
          }
          upgradeAuth.set(request, result);
          ws.handleUpgrade(request, socket, head);
        })
        .catch((error: unknown) => {
          logger.error({ err: describeError(error) }, 'websocket authentication failed');
          socket.destroy();
        });
    });
  } catch (error) {
    await mcp.close();
    await sse.close();
    await ws.close();
    await virtualServers.close();
    await catalog.close();
    await feed.close();
    await manager.close();
    await auth.close();
    await database.close();
    throw error;
  }

  const untrack = metrics.track({
    sessions: () =>
      mcp.sessionCount() + sse.sessionCount() + ws.sessionCount() + virtualServers.sessionCount(),
    catalogSize: () => {
      const snapshot = router.snapshot();
      return {
        tools: snapshot.tools.length,
        prompts: snapshot.prompts.length,
        resources: snapshot.resources.length,
      };
    },
    upstreams: () => manager.health(),
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${hostForUrl}:${address.port}`;
  listenUrl = url;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const http = server as ServerType & { closeAllConnections?: () => void };
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections?.();
      await mcp.close();
      await sse.close();
      await ws.close();
      await virtualServers.close();
      await closed;
      untrack();
      await auth.close();
      await catalog.close();
      await feed.close();
      await manager.close();
      await rest.close();
      router.close();
      await audit.close();
      await tracing.shutdown();
      await database.close();
    })();
    return closing;
  };

  return {
    url,
    mcpUrl: `${url}/mcp`,
    port: address.port,
    database,
    store,
    router,
    manager,
    metrics,
    stats,
    audit,
    catalog,
    auth,
    async applyConfig(file, source) {
      assertDistinctNamespaces(file.gateways);
      const result = await applyConfigFile(database.db, file, { source, secrets: secrets.codec });
      logger.info({ ...result, source }, 'applied the config file');
      await catalog.publish({ kind: 'config', id: source, version: Date.now() });
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The headers of a WebSocket upgrade request, for the upstream header allowlist. */
function upgradeHeaders(request: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) headers.set(name, value.join(', '));
  }
  return headers;
}

/** Two configured upstreams may not share a namespace: every one of their names would collide. */
function assertDistinctNamespaces(inputs: readonly GatewayInput[]) {
  const seen = new Map<string, string>();
  for (const input of inputs) {
    const namespace = effectiveNamespace(input);
    if (namespace === '') continue;
    const other = seen.get(namespace);
    if (other !== undefined) {
      throw new ConfigError(
        'config-invalid',
        `gateways "${other}" and "${input.name}" would both use the namespace "${namespace}"; set "namespace" on one of them`,
      );
    }
    seen.set(namespace, input.name);
  }
}
