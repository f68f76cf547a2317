import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { sql, type Kysely } from 'kysely';
import type { Logger, Router } from '@mcp-gateway/core';
import type { GatewayStore, RegistryDatabase } from '@mcp-gateway/registry';
import type { StreamableHttpHandler } from '@mcp-gateway/transport-streamable-http';
import type { UpstreamManager } from '../upstreams/upstream-manager.ts';
import { createGatewaysRoutes } from './gateways-routes.ts';
import { renderRestError, restError } from './rest-error.ts';

/** What the HTTP app is composed of. Every part is a library object; this file only wires routes. */
export interface GatewayAppOptions {
  logger: Logger;
  db: Kysely<RegistryDatabase>;
  store: GatewayStore;
  manager: UpstreamManager;
  router: Router;
  mcp: StreamableHttpHandler;
}

type Env = { Variables: { requestId: string; logger: Logger } };

/** The gateway's Hono app: `/mcp`, `/health`, `/ready` and the REST API under `/v1`. */
export function createGatewayApp(options: GatewayAppOptions): Hono<Env> {
  const { logger, db, store, manager, router, mcp } = options;
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
        status: c.res.status,
        sessionId: c.req.header('mcp-session-id'),
        durationMs: Math.round((performance.now() - started) * 100) / 100,
      },
      'request',
    );
  });

  app.onError((error, c) =>
    renderRestError(c, error, (fields) => c.get('logger').error(fields, 'request failed')),
  );
  app.notFound((c) =>
    restError(c, 404, { code: 'not-found', message: `no route for ${c.req.method} ${c.req.path}` }),
  );

  app.all('/mcp', (c) => mcp.fetch(c.req.raw));

  app.get('/health', (c) => c.json({ status: 'ok' }));

  app.get('/ready', async (c) => {
    const checks: Record<string, { ok: boolean; error?: string }> = {};
    try {
      await sql`select 1`.execute(db);
      checks.database = { ok: true };
    } catch (error) {
      checks.database = { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    checks.catalog = manager.loaded()
      ? { ok: true }
      : { ok: false, error: 'the registry has not been loaded yet' };
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

  app.route('/v1/gateways', createGatewaysRoutes({ store, manager }));

  return app;
}
