import { Hono } from 'hono';
import { GatewayError } from '@mcp-gateway/core';
import type { AuditLog, CallStats } from '@mcp-gateway/observability';
import type { GatewayRecord, GatewayStore, VisibilityFilter } from '@mcp-gateway/registry';
import type { RestAccess } from '../auth/request-access.ts';
import {
  applyGatewayPatch,
  formatZodIssues,
  gatewayInputSchema,
  gatewayPatchSchema,
  type GatewayInput,
} from '../config/index.ts';
import { effectiveNamespace, type UpstreamManager } from '../upstreams/upstream-manager.ts';
import { createEntityGuard } from './entity-access.ts';
import { restError } from './rest-error.ts';

/** Options of {@link createGatewaysRoutes}. */
export interface GatewaysRoutesOptions {
  store: GatewayStore;
  manager: UpstreamManager;
  stats?: CallStats;
  /** Tells every replica a gateway changed (the change feed). */
  publish?: (change: { kind: 'gateway'; id: string; version: number }) => Promise<void>;
  /** Records who changed what, with the entity before and after (secrets redacted by the audit log). */
  audit?: AuditLog;
  /**
   * Who calls and the policy. With it, lists and reads show only gateways the caller may see (others are 404, like
   * an unknown id), new gateways are owned by the caller, and changes need `Policy.canAdmin`. Without it, no checks.
   */
  access?: RestAccess;
}

/** What the API shows instead of a header or env value; sent back unchanged, it keeps the stored value. */
export const MASK = '********';

/** A PATCH that sends back masked values (GET → edit → PATCH) keeps the stored secrets instead of the mask. */
function unmask(sent: Record<string, string> | null | undefined, stored: Record<string, string>) {
  if (!sent) return sent;
  return Object.fromEntries(
    Object.entries(sent).map(([key, value]) => [key, value === MASK ? (stored[key] ?? value) : value]),
  );
}

/**
 * The record as the audit log keeps it: header and env values masked. The audit log redacts by field name, which a
 * header such as `X-Upstream-Key` does not match.
 */
function withoutSecrets(record: GatewayRecord): GatewayRecord {
  const mask = (values: Record<string, string>) =>
    Object.fromEntries(Object.keys(values).map((key) => [key, MASK]));
  return { ...record, headers: mask(record.headers), env: mask(record.env) };
}

/** Header and env values can hold credentials: the API shows the keys, never the values. */
function present(record: GatewayRecord, manager: UpstreamManager, stats?: CallStats) {
  const mask = (values: Record<string, string>) =>
    Object.fromEntries(Object.keys(values).map((key) => [key, MASK]));
  return {
    id: record.id,
    name: record.name,
    transport: record.transport,
    command: record.command,
    args: record.args,
    env: mask(record.env),
    cwd: record.cwd,
    url: record.url,
    headers: mask(record.headers),
    passthroughHeaders: record.passthroughHeaders,
    namespace: record.namespace,
    enabled: record.enabled,
    timeoutMs: record.timeoutMs,
    protocolEra: record.protocolEra,
    tags: record.tags,
    owner: record.owner,
    team: record.team,
    visibility: record.visibility,
    version: record.version,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
    runtime: manager.status(record.id),
    stats: stats?.upstream(record.id),
  };
}

function toInput(record: GatewayRecord): GatewayInput {
  return {
    name: record.name,
    transport: record.transport,
    command: record.command,
    args: record.args,
    env: record.env,
    cwd: record.cwd,
    url: record.url,
    headers: record.headers,
    passthroughHeaders: record.passthroughHeaders,
    namespace: record.namespace,
    enabled: record.enabled,
    timeoutMs: record.timeoutMs,
    protocolEra: record.protocolEra,
    tags: record.tags,
    owner: record.owner,
    team: record.team,
    visibility: record.visibility,
  };
}

/** Two gateways may not expose names under the same namespace: every one of their names would collide. */
async function assertNamespaceFree(
  store: GatewayStore,
  candidate: Pick<GatewayRecord, 'name' | 'namespace'>,
  { selfId, visibleTo }: { selfId?: string; visibleTo?: VisibilityFilter } = {},
) {
  const namespace = effectiveNamespace(candidate);
  if (namespace === '') return;
  const clash = (await store.list()).find(
    (other) => other.id !== selfId && effectiveNamespace(other) === namespace,
  );
  if (clash) {
    // A gateway the caller may not see is not named.
    if (visibleTo !== undefined && !(await store.get(clash.id, { visibleTo }))) {
      throw new GatewayError('conflict', `namespace "${namespace}" is already used by another gateway`, {
        details: { field: 'namespace' },
      });
    }
    throw new GatewayError(
      'conflict',
      `namespace "${namespace}" is already used by gateway "${clash.name}"`,
      {
        details: { field: 'namespace', conflictsWith: clash.id },
      },
    );
  }
}

async function readJson(request: Request): Promise<{ ok: true; value: unknown } | { ok: false }> {
  try {
    return { ok: true, value: await request.json() };
  } catch {
    return { ok: false };
  }
}

/** `/v1/gateways`: register, list, read, change and remove upstream MCP servers. */
export function createGatewaysRoutes(options: GatewaysRoutesOptions): Hono {
  const { store, manager } = options;
  const guard = createEntityGuard(options.access, 'gateway');
  const app = new Hono();

  app.get('/', async (c) => {
    const records = await store.list({ visibleTo: guard.filter(c.req.raw) });
    return c.json({ items: records.map((record) => present(record, manager, options.stats)) });
  });

  app.post('/', async (c) => {
    const body = await readJson(c.req.raw);
    if (!body.ok)
      return restError(c, 400, { code: 'invalid-input', message: 'the request body is not valid JSON' });
    const parsed = gatewayInputSchema.safeParse(body.value);
    if (!parsed.success) {
      const formatted = formatZodIssues(parsed.error);
      return restError(c, 400, {
        code: 'invalid-input',
        message: formatted.message,
        details: formatted.details,
      });
    }
    const ownership = guard.ownershipForCreate(c.req.raw, parsed.data);
    await assertNamespaceFree(store, parsed.data, { visibleTo: guard.filter(c.req.raw) });
    const record = await store.create({ ...parsed.data, ...ownership });
    manager.upsert(record);
    options.audit?.recordChange({
      entityType: 'gateway',
      entityId: record.id,
      action: 'create',
      after: withoutSecrets(record),
    });
    await options.publish?.({ kind: 'gateway', id: record.id, version: record.version });
    c.header('location', `/v1/gateways/${record.id}`);
    return c.json(present(record, manager, options.stats), 201);
  });

  app.get('/:id', async (c) => {
    const record = await store.get(c.req.param('id'), { visibleTo: guard.filter(c.req.raw) });
    if (!record) return notFound(c.req.param('id'));
    return c.json(present(record, manager, options.stats));
  });

  app.patch('/:id', async (c) => {
    const id = c.req.param('id');
    const body = await readJson(c.req.raw);
    if (!body.ok)
      return restError(c, 400, { code: 'invalid-input', message: 'the request body is not valid JSON' });
    const patch = gatewayPatchSchema.safeParse(body.value);
    if (!patch.success) {
      const formatted = formatZodIssues(patch.error);
      return restError(c, 400, {
        code: 'invalid-input',
        message: formatted.message,
        details: formatted.details,
      });
    }
    const current = await store.get(id, { visibleTo: guard.filter(c.req.raw) });
    if (!current) return notFound(id);
    guard.authorize(c.req.raw, 'update', { current, change: patch.data });
    const merged = applyGatewayPatch(toInput(current), {
      ...patch.data,
      headers: unmask(patch.data.headers, current.headers),
      env: unmask(patch.data.env, current.env),
    });
    if (!merged.success) {
      const formatted = formatZodIssues(merged.error);
      return restError(c, 400, {
        code: 'invalid-input',
        message: formatted.message,
        details: formatted.details,
      });
    }
    const next = merged.data;
    await assertNamespaceFree(store, next, { selfId: id, visibleTo: guard.filter(c.req.raw) });
    // Fields the merge dropped (switching transport clears command or url) are cleared in the row too.
    const updated = await store.update(id, {
      ...next,
      command: next.command ?? null,
      cwd: next.cwd ?? null,
      url: next.url ?? null,
      namespace: next.namespace ?? null,
      timeoutMs: next.timeoutMs ?? null,
      protocolEra: next.protocolEra ?? null,
      owner: next.owner ?? null,
      team: next.team ?? null,
      visibility: next.visibility ?? 'public',
    });
    if (!updated) return notFound(id);
    manager.upsert(updated);
    options.audit?.recordChange({
      entityType: 'gateway',
      entityId: id,
      action: 'update',
      before: withoutSecrets(current),
      after: withoutSecrets(updated),
    });
    await options.publish?.({ kind: 'gateway', id: updated.id, version: updated.version });
    return c.json(present(updated, manager, options.stats));
  });

  app.delete('/:id', async (c) => {
    const id = c.req.param('id');
    const before = await store.get(id, { visibleTo: guard.filter(c.req.raw) });
    if (!before) return notFound(id);
    guard.authorize(c.req.raw, 'delete', { current: before });
    const removed = await store.remove(id);
    if (!removed) return notFound(id);
    options.audit?.recordChange({
      entityType: 'gateway',
      entityId: id,
      action: 'delete',
      before: withoutSecrets(before),
    });
    await manager.remove(id);
    await options.publish?.({ kind: 'gateway', id, version: 0 });
    return c.body(null, 204);
  });

  function notFound(id: string): never {
    throw new GatewayError('not-found', `no gateway with id "${id}"`, { details: { id } });
  }

  return app;
}
