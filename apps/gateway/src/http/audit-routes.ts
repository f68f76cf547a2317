import { Hono } from 'hono';
import { z } from 'zod';
import type { AuditStore } from '@mcp-gateway/registry';
import { formatZodIssues } from '../config/index.ts';
import { restError } from './rest-error.ts';

/** The query of `GET /v1/audit`. */
export const auditQuerySchema = z.strictObject({
  kind: z.enum(['change', 'tool-call']).optional(),
  actor: z.string().min(1).optional(),
  entityType: z.string().min(1).optional(),
  entityId: z.string().min(1).optional(),
  tool: z.string().min(1).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  before: z.string().regex(/^\d+$/, 'before must be an entry id').optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

/** `GET /v1/audit`: who changed what and who called which tool, newest first, filtered, paged with `before`. */
export function createAuditRoutes(options: { store: AuditStore; flush: () => Promise<void> }): Hono {
  const app = new Hono();
  app.get('/', async (c) => {
    const parsed = auditQuerySchema.safeParse(c.req.query());
    if (!parsed.success) {
      const formatted = formatZodIssues(parsed.error, 'invalid query');
      return restError(c, 400, {
        code: 'invalid-input',
        message: formatted.message,
        details: formatted.details,
      });
    }
    // Entries are written in batches; flush first so a read sees everything recorded until now.
    await options.flush();
    const { since, until, ...rest } = parsed.data;
    return c.json(
      await options.store.query({
        ...rest,
        since: since === undefined ? undefined : new Date(since),
        until: until === undefined ? undefined : new Date(until),
      }),
    );
  });
  return app;
}
