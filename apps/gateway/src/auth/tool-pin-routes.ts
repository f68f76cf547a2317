import { Hono } from 'hono';
import { z } from 'zod';
import type { PinnedUpstream, ToolPins } from '@mcp-gateway/auth';
import { restErrorResponse } from '../http/rest-error.ts';
import type { RestAccess } from './request-access.ts';

/** Options of {@link createToolPinRoutes}. */
export interface ToolPinRoutesOptions {
  pins: ToolPins;
  /** The pinned upstreams by gateway id, with the name to show. */
  upstreams: () => ReadonlyMap<string, { name: string; upstream: PinnedUpstream }>;
  access: RestAccess;
  /** Records an approval in the audit log. */
  onApproved?: (entry: { gatewayId: string; toolName: string; hash: string; approvedBy: string }) => void;
}

const approveSchema = z.strictObject({
  hash: z.string().regex(/^[0-9a-f]{64}$/, 'expected the 64-hex-digit hash shown by GET /v1/tool-pins'),
});

/**
 * Tool pinning review: `GET /v1/tool-pins` lists tools held back (new or changed since approval) with the diff and
 * any hidden Unicode found; `POST /v1/tools/{gatewayId}:{toolName}/approve` with `{"hash"}` approves exactly the
 * definition that was reviewed (a tool that changed again since answers 409 with the new state to review).
 */
export function createToolPinRoutes(options: ToolPinRoutesOptions): { pins: Hono; approve: Hono } {
  const list = () =>
    [...options.upstreams()].flatMap(([gatewayId, { name, upstream }]) =>
      upstream.lastReview().quarantined.map((q) => ({
        id: `${gatewayId}:${q.tool.name}`,
        gatewayId,
        gateway: name,
        toolName: q.tool.name,
        reason: q.reason,
        hash: q.hash,
        diff: q.diff,
        hiddenUnicode: q.hiddenUnicode,
        definition: q.tool,
      })),
    );

  const pins = new Hono();
  pins.get('/', (c) => c.json({ items: list() }));

  const approve = new Hono();
  approve.post('/:id/approve', async (c) => {
    const id = c.req.param('id');
    const separator = id.indexOf(':');
    const gatewayId = separator > 0 ? id.slice(0, separator) : '';
    const toolName = separator > 0 ? id.slice(separator + 1) : '';
    const entry = options.upstreams().get(gatewayId);
    if (!entry) {
      return restErrorResponse(404, {
        code: 'not-found',
        message: `no pinned gateway for "${id}": approve ids are {gatewayId}:{toolName}, as listed by GET /v1/tool-pins`,
      });
    }
    const body = approveSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) {
      return restErrorResponse(400, {
        code: 'invalid-input',
        message: body.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      });
    }
    const approvedBy = options.access.principal(c.req.raw).id;
    const approved = await options.pins.approve({
      upstreamId: gatewayId,
      toolName,
      hash: body.data.hash,
      approvedBy,
    });
    if (!approved) {
      return restErrorResponse(409, {
        code: 'conflict',
        message: `tool "${toolName}" has no pending definition with that hash: it changed again or was never held; review GET /v1/tool-pins`,
      });
    }
    await entry.upstream.refresh();
    options.onApproved?.({ gatewayId, toolName, hash: body.data.hash, approvedBy });
    return c.json({ approved: true, gatewayId, toolName, hash: body.data.hash });
  });
  return { pins, approve };
}
