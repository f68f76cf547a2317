import { Hono, type Context } from 'hono';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import {
  describeError,
  GatewayError,
  PUBLIC_NAME_PATTERN,
  silentLogger,
  type Logger,
} from '@mcp-gateway/core';
import {
  listTags,
  RegistryError,
  type RegistryDatabase,
  type VirtualServerMemberInput,
  type VirtualServerRecord,
  type VirtualServerStore,
} from '@mcp-gateway/registry';
import type { RestAccess } from '../auth/request-access.ts';
import { ownershipInputFields, ownershipPatchFields } from '../config/ownership-input.ts';
import { created, invalidBody, invalidQuery, readJson, unprocessable } from './catalog-routes.ts';
import { createEntityGuard } from './entity-access.ts';
import { ifMatchVersion, isNotModified, setEtag, withVersionCheck } from './http-caching.ts';

const MAX_PAGE = 500;
const limitMessage = `limit must be a whole number from 1 to ${MAX_PAGE}`;

/** Query string of `GET /v1/servers`. Unknown parameters are refused. */
export const serverListQuerySchema = z.strictObject({
  tag: z.string().min(1, 'tag must not be empty').optional().describe('Only servers carrying this tag.'),
  enabled: z
    .enum(['true', 'false'], { error: 'enabled must be true or false' })
    .transform((value) => value === 'true')
    .optional()
    .describe('Only enabled (`true`) or disabled (`false`) servers.'),
  q: z
    .string()
    .max(200, 'q must be at most 200 characters')
    .optional()
    .describe('Case-insensitive text found in the name or description.'),
  cursor: z
    .string()
    .min(1, 'cursor must not be empty')
    .optional()
    .describe('The `nextCursor` of the previous page.'),
  limit: z.coerce
    .number({ error: limitMessage })
    .int(limitMessage)
    .min(1, limitMessage)
    .max(MAX_PAGE, limitMessage)
    .default(50)
    .describe('Page size.'),
});

const memberSchema = z
  .strictObject({
    kind: z.enum(['tool', 'prompt', 'resource'], { error: 'kind must be "tool", "prompt" or "resource"' }),
    id: z.string({ error: 'id must be a string' }).min(1, 'id must not be empty'),
    alias: z
      .string({ error: 'alias must be a string' })
      .optional()
      .describe(
        'The name inside this server: for tools and prompts 1 to 64 of `[A-Za-z0-9_-]`, for resources a URI.',
      ),
  })
  .superRefine((member, context) => {
    if (member.alias === undefined) return;
    const valid =
      member.kind === 'resource' ? /^\S{1,2048}$/.test(member.alias) : PUBLIC_NAME_PATTERN.test(member.alias);
    if (!valid) {
      context.addIssue({
        code: 'custom',
        path: ['alias'],
        message:
          member.kind === 'resource'
            ? 'a resource alias must be 1 to 2048 characters without whitespace'
            : `a ${member.kind} alias must be 1 to 64 letters, digits, "_" or "-"`,
      });
    }
  });

const membersSchema = z
  .array(memberSchema, { error: 'members must be a list' })
  .superRefine((members, context) => {
    const seen = new Map<string, number>();
    members.forEach((member, index) => {
      const key = `${member.kind}\u0000${member.id}`;
      const first = seen.get(key);
      if (first !== undefined) {
        context.addIssue({
          code: 'custom',
          path: [index, 'id'],
          message: `the ${member.kind} "${member.id}" is already members.${first}`,
        });
      } else seen.set(key, index);
    });
  });

const serverFields = {
  name: z
    .string({ error: (issue) => (issue.input === undefined ? 'name is required' : 'name must be a string') })
    .trim()
    .min(1, { error: 'name must not be empty', abort: true })
    .max(100, 'name must be at most 100 characters')
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9 ._-]*$/,
      'name must start with a letter or digit and contain only letters, digits, spaces, ".", "_" and "-"',
    ),
  description: z.string({ error: 'description must be a string' }).max(10_000),
  icon: z
    .string({ error: 'icon must be a string' })
    .max(256 * 1024, 'icon must be at most 256 KiB')
    .regex(
      /^(https?:\/\/\S+|data:image\/[A-Za-z0-9.+-]+(;[^,]*)?,\S*)$/,
      'icon must be an http:// or https:// URL or a data:image/… URI',
    ),
  enabled: z.boolean({ error: 'enabled must be true or false' }),
  tags: z.array(
    z
      .string({ error: 'tags must be a list of strings' })
      .trim()
      .min(1, 'tags must not be empty strings')
      .max(64, 'tags must be at most 64 characters'),
    { error: 'tags must be a list of strings' },
  ),
};

/** Body of `POST /v1/servers`: a virtual server made of catalog items, each optionally renamed. */
export const virtualServerCreateSchema = z.strictObject({
  name: serverFields.name,
  description: serverFields.description.optional(),
  icon: serverFields.icon.optional(),
  enabled: serverFields.enabled.optional(),
  tags: serverFields.tags.optional(),
  members: membersSchema.default(() => []),
  ...ownershipInputFields,
});

/** Body of `PATCH /v1/servers/:id`: `null` clears `description` or `icon`; `members` replaces all members. */
export const virtualServerPatchSchema = z.strictObject({
  name: serverFields.name.optional(),
  description: serverFields.description.nullable().optional(),
  icon: serverFields.icon.nullable().optional(),
  enabled: serverFields.enabled.optional(),
  tags: serverFields.tags.optional(),
  members: membersSchema.optional(),
  ...ownershipPatchFields,
});

/** The URLs a client connects to for one virtual server. */
export interface VirtualServerUrls {
  mcp: string;
  sse: string;
  ws: string;
}

/** What a virtual-server write announces. */
export interface VirtualServerChange {
  kind: 'virtual-server';
  id: string;
  version: number;
}

/** Options of {@link createServersRoutes}. */
export interface ServersRoutesOptions {
  servers: VirtualServerStore;
  /** Called after every committed write; a failure is logged, not returned (the write stands). */
  publish: (change: VirtualServerChange) => Promise<void>;
  /** The endpoints shown with each server. */
  endpointsOf: (id: string) => VirtualServerUrls;
  /** Default: silent. */
  logger?: Logger;
  /**
   * Who calls and the policy. With it, lists and reads show only servers the caller may see (others are 404, like an
   * unknown id), new servers are owned by the caller, and changes need `Policy.canAdmin`. Without it, no checks.
   */
  access?: RestAccess;
}

/** Two members of one kind may not share an alias: the server could not tell them apart. 409 naming both. */
function assertAliasesUnique(members: readonly VirtualServerMemberInput[]): void {
  const seen = new Map<string, number>();
  members.forEach((member, index) => {
    if (member.alias === undefined) return;
    const key = `${member.kind}\u0000${member.alias}`;
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, index);
      return;
    }
    throw new GatewayError(
      'conflict',
      `members.${index} and members.${first} are both the ${member.kind} alias "${member.alias}"; aliases are unique per kind within a server`,
      {
        details: { field: `members.${index}.alias`, alias: member.alias, conflictsWith: `members.${first}` },
      },
    );
  });
}

/**
 * Runs a store write; a member id that does not exist (the store's `'invalid-input'` on `members.N.id`) becomes a
 * 422 pointing at it, since the body was well-formed.
 */
async function withMembersChecked<T>(c: Context, write: () => Promise<T>): Promise<T | Response> {
  try {
    return await write();
  } catch (error) {
    if (
      error instanceof RegistryError &&
      error.code === 'invalid-input' &&
      Array.isArray(error.details) &&
      error.details.length > 0 &&
      error.details.every((detail) => /^members\.\d+\.id$/.test(detail.path))
    ) {
      return unprocessable(c, error.details);
    }
    throw error;
  }
}

/**
 * `/v1/servers`: virtual servers — named bundles of catalog items, each reachable at its own endpoints. List
 * (filters, search, cursor pages), read (members, `missingMembers`, endpoints, `ETag`), create, change (`If-Match`;
 * `members` replaces them all) and delete.
 */
export function createServersRoutes(options: ServersRoutesOptions): Hono {
  const { servers, endpointsOf } = options;
  if (typeof servers?.get !== 'function')
    throw new TypeError('createServersRoutes: `servers` must be a store');
  if (typeof options.publish !== 'function')
    throw new TypeError('createServersRoutes: `publish` must be a function');
  if (typeof endpointsOf !== 'function')
    throw new TypeError('createServersRoutes: `endpointsOf` must be a function');
  const logger = options.logger ?? silentLogger;
  const guard = createEntityGuard(options.access, 'virtual-server');
  const announce = async (record: { id: string; version: number }) => {
    const change: VirtualServerChange = { kind: 'virtual-server', id: record.id, version: record.version };
    try {
      await options.publish(change);
    } catch (error) {
      logger.warn({ err: describeError(error), change }, 'publishing a virtual-server change failed');
    }
  };
  const present = (record: VirtualServerRecord) => ({ ...record, endpoints: endpointsOf(record.id) });
  const notFound = (id: string): never => {
    throw new GatewayError('not-found', `no virtual server with id "${id}"`, { details: { id } });
  };

  const app = new Hono();

  app.get('/', async (c) => {
    const query = serverListQuerySchema.safeParse(c.req.query());
    if (!query.success) return invalidQuery(c, query.error);
    const { tag, enabled, q, cursor, limit } = query.data;
    const page = await servers.list({
      tag,
      enabled,
      search: q,
      cursor,
      limit,
      visibleTo: guard.filter(c.req.raw),
    });
    return c.json({ items: page.items.map(present), nextCursor: page.nextCursor });
  });

  app.post('/', async (c) => {
    const body = await readJson(c);
    if (body instanceof Response) return body;
    const parsed = virtualServerCreateSchema.safeParse(body.value);
    if (!parsed.success) return invalidBody(c, parsed.error);
    assertAliasesUnique(parsed.data.members);
    const ownership = guard.ownershipForCreate(c.req.raw, parsed.data);
    const record = await withMembersChecked(c, () => servers.create({ ...parsed.data, ...ownership }));
    if (record instanceof Response) return record;
    await announce(record);
    return created(c, record, { collection: 'servers', body: present(record) });
  });

  /** The server, or 404 when there is none or the caller may not see it (the two look the same). */
  const visible = async (request: Request, id: string) =>
    (await servers.get(id, { visibleTo: guard.filter(request) })) ?? notFound(id);

  app.get('/:id', async (c) => {
    const record = await visible(c.req.raw, c.req.param('id'));
    setEtag(c, record);
    if (isNotModified(c, record)) return c.body(null, 304);
    return c.json(present(record));
  });

  app.patch('/:id', async (c) => {
    const id = c.req.param('id');
    const ifVersion = ifMatchVersion(c, { id });
    const body = await readJson(c);
    if (body instanceof Response) return body;
    const parsed = virtualServerPatchSchema.safeParse(body.value);
    if (!parsed.success) return invalidBody(c, parsed.error);
    if (parsed.data.members !== undefined) assertAliasesUnique(parsed.data.members);
    if (guard.active) {
      guard.authorize(c.req.raw, 'update', { current: await visible(c.req.raw, id), change: parsed.data });
    }
    const updated = await withMembersChecked(c, () =>
      withVersionCheck('virtual server', () => servers.update(id, parsed.data, { ifVersion })),
    );
    if (updated instanceof Response) return updated;
    if (updated === undefined) return notFound(id);
    await announce(updated);
    setEtag(c, updated);
    return c.json(present(updated));
  });

  app.delete('/:id', async (c) => {
    const id = c.req.param('id');
    const ifVersion = ifMatchVersion(c, { id });
    const record = await visible(c.req.raw, id);
    guard.authorize(c.req.raw, 'delete', { current: record });
    const removed = await withVersionCheck('virtual server', () => servers.remove(id, { ifVersion }));
    if (!removed) notFound(id);
    await announce({ id, version: record.version + 1 });
    return c.body(null, 204);
  });

  return app;
}

/** Options of {@link createTagsRoutes}. */
export interface TagsRoutesOptions {
  db: Kysely<RegistryDatabase>;
}

/** `/v1/tags`: every tag in use, with how many gateways, tools, resources, prompts and servers carry it. */
export function createTagsRoutes(options: TagsRoutesOptions): Hono {
  const { db } = options;
  if (typeof db?.selectFrom !== 'function')
    throw new TypeError('createTagsRoutes: `db` must be a Kysely instance');
  const app = new Hono();
  app.get('/', async (c) => c.json({ items: await listTags(db) }));
  return app;
}
