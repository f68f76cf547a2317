import { randomUUID } from 'node:crypto';
import type { Resource, ResourceTemplate } from '@mcp-gateway/core';
import type { Kysely, Selectable, Updateable } from 'kysely';
import { sql } from 'kysely';
import {
  actor,
  bool,
  checkShape,
  isPlainObject,
  localContent,
  pathOf,
  resourceDefinition,
  tags,
  text,
  throwIfIssues,
} from './catalog-validation.ts';
import type { Check, Issues, Shape } from './catalog-validation.ts';
import {
  ownershipInputFields,
  ownershipOf,
  ownershipPatchFields,
  ownershipPatchValues,
  ownershipValues,
  visibleCondition,
} from './ownership.ts';
import type { GetOptions, Ownership, OwnershipPatch } from './ownership.ts';
import { listConditions, pageOf, resolveLimit } from './pagination.ts';
import type { ListOptions, Page } from './pagination.ts';
import { RegistryError } from './registry-error.ts';
import type { RegistryDatabase, ResourcesTable } from './registry-database.ts';
import {
  checkViolation,
  checkWriteOptions,
  discoveredId,
  explainMissedWrite,
  isForeignKeyViolation,
  json,
  jsonOrNull,
  lockGateway,
  uniqueTags,
  uniqueViolation,
  withTransaction,
} from './store-support.ts';
import type { SyncResult, WriteOptions } from './store-support.ts';

/** A concrete resource (`uri`) or a resource template (`uriTemplate`). */
export type ResourceKind = 'resource' | 'template';

/** What a local static resource returns when read: text, or base64 bytes with their MIME type. */
export type LocalResourceContent = { text: string; mimeType?: string } | { blob: string; mimeType: string };

/** One resource or resource template, as the store returns it. Absent optional values are `undefined`. */
export interface ResourceRecord extends Ownership {
  /** For discovered resources a name-based UUID of (gateway, URI). */
  id: string;
  /** The upstream that lists it; `undefined` for a local resource. */
  gatewayId?: string;
  /** The resource's `uri`, or the template's `uriTemplate`; unique per gateway (and among local resources). */
  uri: string;
  kind: ResourceKind;
  /** As listed to clients. */
  definition: Resource | ResourceTemplate;
  /** Local static resources only: what a read returns. */
  localContent?: LocalResourceContent;
  enabled: boolean;
  tags: string[];
  version: number;
  createdAt: Date;
  updatedAt: Date;
  createdBy?: string;
  updatedBy?: string;
}

/** What {@link ResourceStore.create} takes; the kind follows the definition (`uriTemplate` makes a template). */
export interface ResourceInput extends Partial<Ownership> {
  definition: Resource | ResourceTemplate;
  gatewayId?: string;
  /** Local concrete resources only. */
  localContent?: LocalResourceContent;
  enabled?: boolean;
  tags?: string[];
  createdBy?: string;
}

/** What {@link ResourceStore.update} takes: absent keeps a value, `null` clears an optional one. */
export interface ResourcePatch extends OwnershipPatch {
  /** Local resources only; may change the URI and the kind. */
  definition?: Resource | ResourceTemplate;
  /** Local resources only. */
  localContent?: LocalResourceContent | null;
  enabled?: boolean;
  tags?: string[];
  updatedBy?: string;
}

/** Options for {@link createResourceStore}. */
export interface ResourceStoreOptions {
  db: Kysely<RegistryDatabase>;
  /** Default: `() => new Date()`. */
  clock?: () => Date;
  /** Ids of local resources. Default: `crypto.randomUUID`. */
  generateId?: () => string;
}

/** Reads and writes the `resources` catalog (resources and templates); the same contract as {@link ToolStore}. */
export interface ResourceStore {
  list(options?: ListOptions): Promise<Page<ResourceRecord>>;
  /** `undefined` also when `visibleTo` may not see it. */
  get(id: string, options?: GetOptions): Promise<ResourceRecord | undefined>;
  /** `'conflict'` (`details.field: 'uri'`) when the URI is taken in that scope; `'invalid-input'` for bad fields. */
  create(input: ResourceInput): Promise<ResourceRecord>;
  update(id: string, patch: ResourcePatch, options?: WriteOptions): Promise<ResourceRecord | undefined>;
  remove(id: string, options?: WriteOptions): Promise<boolean>;
  /**
   * Makes the gateway's resources and templates (both, in one list) what its upstream lists now, in one transaction
   * (see {@link ToolStore.syncDiscovered}); names in the result are URIs and URI templates.
   */
  syncDiscovered(
    gatewayId: string,
    resources: ReadonlyArray<Resource | ResourceTemplate>,
  ): Promise<SyncResult>;
}

/** The kind a definition describes. */
export function resourceKindOf(definition: unknown): ResourceKind {
  return isPlainObject(definition) && 'uriTemplate' in definition ? 'template' : 'resource';
}

/** The key of a definition: `uri` or `uriTemplate`. */
function uriOf(definition: Resource | ResourceTemplate): string {
  return 'uriTemplate' in definition ? definition.uriTemplate : definition.uri;
}

const anyResourceDefinition: Check = (value, path, issues) =>
  resourceDefinition(resourceKindOf(value))(value, path, issues);

const inputShape: Shape = {
  required: ['definition'],
  fields: {
    ...ownershipInputFields,
    definition: { check: anyResourceDefinition },
    gatewayId: { check: text() },
    localContent: { check: localContent },
    enabled: { check: bool },
    tags: { check: tags },
    createdBy: { check: actor },
  },
};

const patchShape: Shape = {
  fields: {
    ...ownershipPatchFields,
    definition: { check: anyResourceDefinition },
    localContent: { check: localContent, nullable: true },
    enabled: { check: bool },
    tags: { check: tags },
    updatedBy: { check: actor },
  },
};

const SYNC_CHUNK = 500;

/** Creates the store for the `resources` catalog on a migrated database (see {@link createDatabase}). */
export function createResourceStore(options: ResourceStoreOptions): ResourceStore {
  const { db } = options;
  if (typeof db?.selectFrom !== 'function')
    throw new TypeError('createResourceStore: `db` must be a Kysely instance');
  const clock = options.clock ?? (() => new Date());
  const generateId = options.generateId ?? randomUUID;

  return {
    async list(listOptions = {}) {
      const limit = resolveLimit(listOptions.limit);
      let query = db.selectFrom('resources').selectAll();
      for (const condition of listConditions(listOptions, searchColumns)) query = query.where(condition);
      const rows = await query
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit + 1)
        .execute();
      return pageOf(rows, limit, toResourceRecord);
    },

    async get(id, getOptions = {}) {
      let query = db.selectFrom('resources').selectAll().where('id', '=', id);
      if (getOptions.visibleTo !== undefined)
        query = query.where(visibleCondition('resources', true, getOptions.visibleTo));
      const row = await query.executeTakeFirst();
      return row === undefined ? undefined : toResourceRecord(row);
    },

    async create(input) {
      const issues: Issues = [];
      checkShape(inputShape)(input, '', issues);
      if (input.localContent !== undefined) {
        if (input.gatewayId !== undefined) {
          issues.push({
            path: 'localContent',
            message: 'only local resources (without gatewayId) have content',
          });
        } else if (resourceKindOf(input.definition) === 'template') {
          issues.push({ path: 'localContent', message: 'a resource template has no content of its own' });
        }
      }
      throwIfIssues(issues, 'resource');
      const now = clock();
      const uri = uriOf(input.definition);
      const id =
        input.gatewayId === undefined ? generateId() : discoveredId('resource', input.gatewayId, uri);
      try {
        const row = await db
          .insertInto('resources')
          .values({
            id,
            gateway_id: input.gatewayId ?? null,
            uri,
            kind: resourceKindOf(input.definition),
            definition: json(input.definition),
            local_content: jsonOrNull(input.localContent),
            enabled: input.enabled ?? true,
            tags: json(uniqueTags(input.tags)),
            ...ownershipValues(input),
            created_at: now,
            updated_at: now,
            created_by: input.createdBy ?? null,
            updated_by: input.createdBy ?? null,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toResourceRecord(row);
      } catch (error) {
        throw asResourceWriteError(error, { id, uri, gatewayId: input.gatewayId }) ?? error;
      }
    },

    async update(id, patch, writeOptions = {}) {
      checkWriteOptions(writeOptions);
      const issues: Issues = [];
      checkShape(patchShape)(patch, '', issues);
      throwIfIssues(issues, 'resource patch');
      const values: Updateable<ResourcesTable> = {
        updated_at: clock(),
        updated_by: patch.updatedBy ?? null,
        ...ownershipPatchValues(patch),
      };
      if (patch.definition !== undefined) {
        values.definition = json(patch.definition);
        values.uri = uriOf(patch.definition);
        values.kind = resourceKindOf(patch.definition);
      }
      if (patch.localContent !== undefined) values.local_content = jsonOrNull(patch.localContent);
      if (patch.enabled !== undefined) values.enabled = patch.enabled;
      if (patch.tags !== undefined) values.tags = json(uniqueTags(patch.tags));
      const localOnlyField =
        patch.definition !== undefined
          ? 'definition'
          : patch.localContent !== undefined
            ? 'localContent'
            : undefined;
      try {
        let query = db
          .updateTable('resources')
          .set(values)
          .set((eb) => ({ version: eb('version', '+', 1) }))
          .where('id', '=', id);
        if (writeOptions.ifVersion !== undefined) query = query.where('version', '=', writeOptions.ifVersion);
        if (localOnlyField !== undefined) query = query.where('gateway_id', 'is', null);
        const row = await query.returningAll().executeTakeFirst();
        if (row !== undefined) return toResourceRecord(row);
      } catch (error) {
        const uri = patch.definition === undefined ? '' : uriOf(patch.definition);
        throw asResourceWriteError(error, { id, uri }) ?? error;
      }
      return explainMissedWrite(
        db,
        { table: 'resources', id, label: 'resource' },
        { ...writeOptions, localOnlyField },
      );
    },

    async remove(id, writeOptions = {}) {
      checkWriteOptions(writeOptions);
      let query = db.deleteFrom('resources').where('id', '=', id);
      if (writeOptions.ifVersion !== undefined) query = query.where('version', '=', writeOptions.ifVersion);
      const result = await query.executeTakeFirst();
      if (result.numDeletedRows > 0n) return true;
      await explainMissedWrite(db, { table: 'resources', id, label: 'resource' }, writeOptions);
      return false;
    },

    async syncDiscovered(gatewayId, resources) {
      const issues: Issues = [];
      resources.forEach((resource, index) =>
        anyResourceDefinition(resource, pathOf('resources', index), issues),
      );
      throwIfIssues(issues, 'discovered resources');
      const listed = new Map<string, Resource | ResourceTemplate>();
      for (const resource of resources)
        if (!listed.has(uriOf(resource))) listed.set(uriOf(resource), resource);

      return withTransaction(db, async (trx) => {
        await lockGateway(trx, gatewayId);
        const before = await trx
          .selectFrom('resources')
          .select('uri')
          .where('gateway_id', '=', gatewayId)
          .execute();
        const existing = new Set(before.map((row) => row.uri));
        const now = clock();
        const changed: string[] = [];
        const rows = [...listed].map(([uri, definition]) => ({
          id: discoveredId('resource', gatewayId, uri),
          gateway_id: gatewayId,
          uri,
          kind: resourceKindOf(definition),
          definition: json(definition),
          tags: '[]',
          created_at: now,
          updated_at: now,
        }));
        for (let start = 0; start < rows.length; start += SYNC_CHUNK) {
          const written = await trx
            .insertInto('resources')
            .values(rows.slice(start, start + SYNC_CHUNK))
            .onConflict((conflict) =>
              conflict
                .columns(['gateway_id', 'uri'])
                .doUpdateSet((eb) => ({
                  definition: eb.ref('excluded.definition'),
                  kind: eb.ref('excluded.kind'),
                  version: sql<number>`resources.version + 1`,
                  updated_at: now,
                  updated_by: null,
                }))
                .where(
                  sql<boolean>`(resources.definition, resources.kind) is distinct from (excluded.definition, excluded.kind)`,
                ),
            )
            .returning('uri')
            .execute();
          changed.push(...written.map((row) => row.uri));
        }
        let removal = trx.deleteFrom('resources').where('gateway_id', '=', gatewayId);
        if (listed.size > 0) removal = removal.where('uri', 'not in', [...listed.keys()]);
        const removed = await removal.returning('uri').execute();
        return {
          added: changed.filter((uri) => !existing.has(uri)).sort(),
          updated: changed.filter((uri) => existing.has(uri)).sort(),
          removed: removed.map((row) => row.uri).sort(),
        };
      });
    },
  };
}

const searchColumns = {
  hasGateway: true,
  table: 'resources',
  search: [sql`uri`, sql`definition->>'name'`, sql`definition->>'title'`, sql`definition->>'description'`],
};

function asResourceWriteError(
  error: unknown,
  attempted: { id: string; uri: string; gatewayId?: string },
): RegistryError | undefined {
  if (isForeignKeyViolation(error)) {
    return new RegistryError('invalid-input', `no gateway with id "${attempted.gatewayId ?? ''}"`, {
      cause: error,
      details: [{ path: 'gatewayId', message: 'no such gateway' }],
    });
  }
  if (checkViolation(error) === 'resources_local_content_check') {
    return new RegistryError('invalid-input', 'only local concrete resources (not templates) have content', {
      cause: error,
      details: [
        { path: 'localContent', message: 'only local concrete resources (not templates) have content' },
      ],
    });
  }
  const constraint = uniqueViolation(error);
  if (constraint === undefined) return undefined;
  if (constraint === 'resources_pkey' && attempted.gatewayId === undefined) {
    return new RegistryError('conflict', `a resource with id "${attempted.id}" already exists`, {
      cause: error,
      details: { field: 'id' },
    });
  }
  const where =
    attempted.gatewayId === undefined ? 'among local resources' : `on gateway "${attempted.gatewayId}"`;
  return new RegistryError('conflict', `a resource "${attempted.uri}" already exists ${where}`, {
    cause: error,
    details: { field: 'uri' },
  });
}

/** Row to record: snake_case to camelCase, `null` to `undefined`. */
export function toResourceRecord(row: Selectable<ResourcesTable>): ResourceRecord {
  return {
    id: row.id,
    gatewayId: row.gateway_id ?? undefined,
    uri: row.uri,
    kind: row.kind as ResourceKind,
    definition: row.definition,
    localContent: (row.local_content as LocalResourceContent | null) ?? undefined,
    enabled: row.enabled,
    tags: row.tags,
    ...ownershipOf(row),
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by ?? undefined,
    updatedBy: row.updated_by ?? undefined,
  };
}
