import { RATE_LIMITED_RPC_CODE } from '@mcp-gateway/auth';
import { Hono } from 'hono';
import { z } from 'zod';
import {
  diffToolSets,
  importOpenApi,
  restToolDefinitionSchema,
  commandToolDefinitionSchema,
  type ToolDefinition,
} from '@mcp-gateway/adapter-rest';
import { GatewayError, RpcError, toPublicName, type Router } from '@mcp-gateway/core';
import type { GatewayStore, ToolRecord, ToolStore } from '@mcp-gateway/registry';
import { formatZodIssues } from '../config/index.ts';
import type { RestAccess } from '../auth/request-access.ts';
import { effectiveNamespace, type UpstreamManager } from '../upstreams/upstream-manager.ts';
import { createEntityGuard } from './entity-access.ts';
import { restError } from './rest-error.ts';

/** Options of {@link createAdminActions}. */
export interface AdminActionsOptions {
  router: Router;
  manager: UpstreamManager;
  gateways: GatewayStore;
  tools: ToolStore;
  publish: (change: { kind: 'tool' | 'gateway' | 'config'; id: string; version: number }) => Promise<void>;
  /** With it, refreshing a gateway or invoking a tool the caller may not see is 404, like an unknown id. */
  access?: RestAccess;
}

const invokeSchema = z.strictObject({ arguments: z.record(z.string(), z.unknown()).optional() });

/** The body of `POST /v1/openapi/import`. */
export const openApiImportSchema = z.strictObject({
  /** Names this import, so a re-import updates the same tools in place. */
  source: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'source must be 1-64 letters, digits, "_" or "-"'),
  spec: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  baseUrl: z.url().optional(),
  include: z
    .strictObject({
      tags: z.array(z.string()).optional(),
      paths: z.array(z.string()).optional(),
      operations: z.array(z.string()).optional(),
    })
    .optional(),
  exclude: z
    .strictObject({
      tags: z.array(z.string()).optional(),
      paths: z.array(z.string()).optional(),
      operations: z.array(z.string()).optional(),
    })
    .optional(),
  auth: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});

/** A REST or command tool definition as POSTed to /v1/tools (validated by the adapter's own schemas). */
export function parseToolDefinition(
  body: Record<string, unknown>,
): { ok: true; definition: ToolDefinition } | { ok: false; error: z.ZodError } {
  const { integration, ...rest } = body;
  const schema = integration === 'command' ? commandToolDefinitionSchema : restToolDefinitionSchema;
  const parsed = schema.safeParse(integration === 'command' ? { kind: 'command', ...rest } : rest);
  return parsed.success ? { ok: true, definition: parsed.data } : { ok: false, error: parsed.error };
}

/** The tool record for a REST or command tool: the adapter definition beside the MCP tool it is listed as. */
export function adapterToolInput(definition: ToolDefinition, tags: string[] = []) {
  return {
    integration: 'kind' in definition && definition.kind === 'command' ? 'command' : 'rest',
    integrationConfig: definition as unknown as Record<string, unknown>,
    definition: {
      name: definition.name,
      description: definition.description,
      inputSchema: (definition.inputSchema ?? { type: 'object' }) as { type: 'object' },
      ...(definition.outputSchema ? { outputSchema: definition.outputSchema as { type: 'object' } } : {}),
    },
    tags,
  };
}

/**
 * Admin actions that are not plain CRUD: re-sync a gateway, invoke a tool for testing, import an OpenAPI spec as
 * REST tools (a re-import of the same `source` updates in place and reports what changed).
 */
export function createAdminActions(options: AdminActionsOptions): Hono {
  const app = new Hono();
  const gatewayGuard = createEntityGuard(options.access, 'gateway');
  const toolGuard = createEntityGuard(options.access, 'tool');

  app.post('/gateways/:id/refresh', async (c) => {
    const id = c.req.param('id');
    const record = await options.gateways.get(id, { visibleTo: gatewayGuard.filter(c.req.raw) });
    if (!record) throw new GatewayError('not-found', `no gateway with id "${id}"`);
    await options.manager.refresh(id);
    await options.publish({ kind: 'gateway', id, version: record.version });
    return c.json({ id, refreshed: true, runtime: options.manager.status(id) });
  });

  app.post('/tools/:id/invoke', async (c) => {
    const id = c.req.param('id');
    const body = invokeSchema.safeParse(await c.req.json().catch(() => ({})));
    if (!body.success) {
      const formatted = formatZodIssues(body.error);
      return restError(c, 400, {
        code: 'invalid-input',
        message: formatted.message,
        details: formatted.details,
      });
    }
    const tool = await options.tools.get(id, { visibleTo: toolGuard.filter(c.req.raw) });
    if (!tool) throw new GatewayError('not-found', `no tool with id "${id}"`);
    const name = await publicNameOf(tool, options.gateways);
    try {
      const result = await options.router.handle('tools/call', {
        name,
        arguments: body.data.arguments ?? {},
      });
      return c.json(result);
    } catch (error) {
      if (error instanceof RpcError && error.code === RATE_LIMITED_RPC_CODE) {
        const retryAfterMs = (error.data as { retryAfterMs?: number } | undefined)?.retryAfterMs ?? 1000;
        c.header('retry-after', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
        return restError(c, 429, { code: 'rate-limited', message: error.message, details: { retryAfterMs } });
      }
      if (error instanceof RpcError) {
        return restError(c, 422, {
          code: 'tool-call-failed',
          message: error.message,
          details: { rpcCode: error.code, data: error.data },
        });
      }
      throw error;
    }
  });

  app.post('/openapi/import', async (c) => {
    const body = openApiImportSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) {
      const formatted = formatZodIssues(body.error);
      return restError(c, 400, {
        code: 'invalid-input',
        message: formatted.message,
        details: formatted.details,
      });
    }
    const { source, spec, ...importOptions } = body.data;
    let imported: ReturnType<typeof importOpenApi>;
    try {
      imported = importOpenApi(spec, importOptions);
    } catch (error) {
      return restError(c, 422, {
        code: 'invalid-input',
        message: error instanceof Error ? error.message : String(error),
      });
    }
    return c.json(
      await applyOpenApiImport({
        tools: options.tools,
        source,
        imported: imported.tools,
        warnings: imported.warnings,
        publish: options.publish,
      }),
    );
  });

  return app;
}

/** Stores an OpenAPI import: tools tagged `openapi:<source>` are added, updated in place, or removed. */
export async function applyOpenApiImport(input: {
  tools: ToolStore;
  source: string;
  imported: ToolDefinition[];
  warnings: string[];
  publish: AdminActionsOptions['publish'];
}) {
  const tag = `openapi:${input.source}`;
  const existing: ToolRecord[] = [];
  for (let cursor: string | undefined, i = 0; i < 1000; i++) {
    const page = await input.tools.list({ tag, gatewayId: null, cursor, limit: 500 });
    existing.push(...page.items);
    cursor = page.nextCursor;
    if (cursor === undefined) break;
  }
  const byName = new Map(existing.map((t) => [t.originalName, t]));
  const previous = existing.map((t) => ({ ...(t.integrationConfig as object), name: t.originalName }));
  const diff = diffToolSets(previous, input.imported);
  for (const definition of input.imported) {
    const current = byName.get(definition.name);
    const record = adapterToolInput(definition, [tag]);
    if (!current) await input.tools.create(record);
    else if (diff.updated.includes(definition.name)) {
      await input.tools.update(current.id, {
        integrationConfig: record.integrationConfig,
        definition: record.definition,
      });
    }
  }
  for (const name of diff.removed) {
    const current = byName.get(name);
    if (current) await input.tools.remove(current.id);
  }
  await input.publish({ kind: 'config', id: tag, version: Date.now() });
  return { source: input.source, ...diff, warnings: input.warnings };
}

async function publicNameOf(tool: ToolRecord, gateways: GatewayStore): Promise<string> {
  if (tool.alias) return tool.alias;
  const gateway = tool.gatewayId ? await gateways.get(tool.gatewayId) : undefined;
  return toPublicName(gateway ? effectiveNamespace(gateway) : '', tool.originalName);
}
