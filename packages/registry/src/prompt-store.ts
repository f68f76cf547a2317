import { randomUUID } from 'node:crypto';
import type { Prompt } from '@mcp-gateway/core';
import type { Kysely, Selectable, Updateable } from 'kysely';
import { sql } from 'kysely';
import {
  actor,
  alias,
  bool,
  checkShape,
  description,
  pathOf,
  promptDefinition,
  promptTemplate,
  tags,
  text,
  throwIfIssues,
} from './catalog-validation.ts';
import type { Issues, Shape } from './catalog-validation.ts';
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
import type { PromptsTable, RegistryDatabase } from './registry-database.ts';
import {
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

/** A typed argument of a local prompt. */
export interface PromptTemplateArgument {
  name: string;
  description?: string;
  required?: boolean;
  /** How a renderer should read the value. Default `'string'`. */
  type?: 'string' | 'number' | 'integer' | 'boolean';
}

/**
 * A prompt defined in the gateway: messages whose text the gateway fills in with the arguments. The placeholder
 * syntax belongs to the renderer; the store only keeps the template.
 */
export interface PromptTemplate {
  messages: Array<{ role: 'user' | 'assistant'; text: string }>;
  arguments?: PromptTemplateArgument[];
}

/** One prompt, as the store returns it. Absent optional values are `undefined`. */
export interface PromptRecord extends Ownership {
  /** For discovered prompts a name-based UUID of (gateway, original name). */
  id: string;
  /** The upstream that lists it; `undefined` for a local prompt. */
  gatewayId?: string;
  originalName: string;
  /** The prompt as listed to clients (for a local prompt, its `arguments` follow the template's). */
  definition: Prompt;
  /** Local prompts only. */
  template?: PromptTemplate;
  enabled: boolean;
  /** Replaces the whole public name; unique among prompts. */
  alias?: string;
  descriptionOverride?: string;
  tags: string[];
  version: number;
  createdAt: Date;
  updatedAt: Date;
  createdBy?: string;
  updatedBy?: string;
}

/**
 * What {@link PromptStore.create} takes. A local prompt (no `gatewayId`) usually has a `template`; when
 * `definition.arguments` is absent it is derived from the template's arguments.
 */
export interface PromptInput extends Partial<Ownership> {
  definition: Prompt;
  template?: PromptTemplate;
  gatewayId?: string;
  enabled?: boolean;
  alias?: string;
  descriptionOverride?: string;
  tags?: string[];
  createdBy?: string;
}

/** What {@link PromptStore.update} takes: absent keeps a value, `null` clears an optional one. */
export interface PromptPatch extends OwnershipPatch {
  /** Local prompts only. */
  definition?: Prompt;
  /** Local prompts only; also replaces `definition.arguments` unless `definition` is given with its own. */
  template?: PromptTemplate | null;
  enabled?: boolean;
  alias?: string | null;
  descriptionOverride?: string | null;
  tags?: string[];
  updatedBy?: string;
}

/** Options for {@link createPromptStore}. */
export interface PromptStoreOptions {
  db: Kysely<RegistryDatabase>;
  /** Default: `() => new Date()`. */
  clock?: () => Date;
  /** Ids of local prompts. Default: `crypto.randomUUID`. */
  generateId?: () => string;
}

/** Reads and writes the `prompts` catalog; the same contract as {@link ToolStore}. */
export interface PromptStore {
  list(options?: ListOptions): Promise<Page<PromptRecord>>;
  /** `undefined` also when `visibleTo` may not see it. */
  get(id: string, options?: GetOptions): Promise<PromptRecord | undefined>;
  /** `'conflict'` (`details.field`: `'name'` or `'alias'`), `'invalid-input'` listing every bad field. */
  create(input: PromptInput): Promise<PromptRecord>;
  update(id: string, patch: PromptPatch, options?: WriteOptions): Promise<PromptRecord | undefined>;
  remove(id: string, options?: WriteOptions): Promise<boolean>;
  /** Makes the gateway's prompts what its upstream lists now, in one transaction (see {@link ToolStore.syncDiscovered}). */
  syncDiscovered(gatewayId: string, prompts: readonly Prompt[]): Promise<SyncResult>;
}

const inputShape: Shape = {
  required: ['definition'],
  fields: {
    ...ownershipInputFields,
    definition: { check: promptDefinition },
    template: { check: promptTemplate },
    gatewayId: { check: text() },
    enabled: { check: bool },
    alias: { check: alias },
    descriptionOverride: { check: description },
    tags: { check: tags },
    createdBy: { check: actor },
  },
};

const patchShape: Shape = {
  fields: {
    ...ownershipPatchFields,
    definition: { check: promptDefinition },
    template: { check: promptTemplate, nullable: true },
    enabled: { check: bool },
    alias: { check: alias, nullable: true },
    descriptionOverride: { check: description, nullable: true },
    tags: { check: tags },
    updatedBy: { check: actor },
  },
};

const SYNC_CHUNK = 500;

/** The prompt arguments clients see for a template's typed arguments. */
export function templateArguments(template: PromptTemplate): NonNullable<Prompt['arguments']> {
  return (template.arguments ?? []).map((argument) => ({
    name: argument.name,
    ...(argument.description === undefined ? {} : { description: argument.description }),
    ...(argument.required === undefined ? {} : { required: argument.required }),
  }));
}

/** Creates the store for the `prompts` catalog on a migrated database (see {@link createDatabase}). */
export function createPromptStore(options: PromptStoreOptions): PromptStore {
  const { db } = options;
  if (typeof db?.selectFrom !== 'function')
    throw new TypeError('createPromptStore: `db` must be a Kysely instance');
  const clock = options.clock ?? (() => new Date());
  const generateId = options.generateId ?? randomUUID;

  return {
    async list(listOptions = {}) {
      const limit = resolveLimit(listOptions.limit);
      let query = db.selectFrom('prompts').selectAll();
      for (const condition of listConditions(listOptions, searchColumns)) query = query.where(condition);
      const rows = await query
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit + 1)
        .execute();
      return pageOf(rows, limit, toPromptRecord);
    },

    async get(id, getOptions = {}) {
      let query = db.selectFrom('prompts').selectAll().where('id', '=', id);
      if (getOptions.visibleTo !== undefined)
        query = query.where(visibleCondition('prompts', true, getOptions.visibleTo));
      const row = await query.executeTakeFirst();
      return row === undefined ? undefined : toPromptRecord(row);
    },

    async create(input) {
      const issues: Issues = [];
      checkShape(inputShape)(input, '', issues);
      if (input.template !== undefined && input.gatewayId !== undefined) {
        issues.push({ path: 'template', message: 'only local prompts (without gatewayId) have a template' });
      }
      throwIfIssues(issues, 'prompt');
      const now = clock();
      const name = input.definition.name;
      const id = input.gatewayId === undefined ? generateId() : discoveredId('prompt', input.gatewayId, name);
      const definition =
        input.template !== undefined && input.definition.arguments === undefined
          ? { ...input.definition, arguments: templateArguments(input.template) }
          : input.definition;
      try {
        const row = await db
          .insertInto('prompts')
          .values({
            id,
            gateway_id: input.gatewayId ?? null,
            original_name: name,
            definition: json(definition),
            template: jsonOrNull(input.template),
            enabled: input.enabled ?? true,
            alias: input.alias ?? null,
            description_override: input.descriptionOverride ?? null,
            tags: json(uniqueTags(input.tags)),
            ...ownershipValues(input),
            created_at: now,
            updated_at: now,
            created_by: input.createdBy ?? null,
            updated_by: input.createdBy ?? null,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toPromptRecord(row);
      } catch (error) {
        throw (
          asPromptWriteError(error, { id, name, alias: input.alias, gatewayId: input.gatewayId }) ?? error
        );
      }
    },

    async update(id, patch, writeOptions = {}) {
      checkWriteOptions(writeOptions);
      const issues: Issues = [];
      checkShape(patchShape)(patch, '', issues);
      throwIfIssues(issues, 'prompt patch');
      const values: Updateable<PromptsTable> = {
        updated_at: clock(),
        updated_by: patch.updatedBy ?? null,
        ...ownershipPatchValues(patch),
      };
      const template = patch.template ?? undefined;
      if (patch.definition !== undefined) {
        const definition =
          template !== undefined && patch.definition.arguments === undefined
            ? { ...patch.definition, arguments: templateArguments(template) }
            : patch.definition;
        values.definition = json(definition);
        values.original_name = patch.definition.name;
      }
      // A new template without a new definition: keep the definition, follow the template's arguments.
      const followTemplate =
        patch.definition === undefined && template !== undefined
          ? {
              definition: sql<string>`jsonb_set(definition, '{arguments}', ${json(templateArguments(template))}::jsonb)`,
            }
          : {};
      if (patch.template !== undefined) values.template = jsonOrNull(patch.template);
      if (patch.enabled !== undefined) values.enabled = patch.enabled;
      if (patch.alias !== undefined) values.alias = patch.alias;
      if (patch.descriptionOverride !== undefined) values.description_override = patch.descriptionOverride;
      if (patch.tags !== undefined) values.tags = json(uniqueTags(patch.tags));
      const localOnlyField =
        patch.definition !== undefined ? 'definition' : patch.template !== undefined ? 'template' : undefined;
      try {
        let query = db
          .updateTable('prompts')
          .set(values)
          .set(followTemplate)
          .set((eb) => ({ version: eb('version', '+', 1) }))
          .where('id', '=', id);
        if (writeOptions.ifVersion !== undefined) query = query.where('version', '=', writeOptions.ifVersion);
        if (localOnlyField !== undefined) query = query.where('gateway_id', 'is', null);
        const row = await query.returningAll().executeTakeFirst();
        if (row !== undefined) return toPromptRecord(row);
      } catch (error) {
        throw (
          asPromptWriteError(error, { id, name: patch.definition?.name ?? '', alias: patch.alias }) ?? error
        );
      }
      return explainMissedWrite(
        db,
        { table: 'prompts', id, label: 'prompt' },
        { ...writeOptions, localOnlyField },
      );
    },

    async remove(id, writeOptions = {}) {
      checkWriteOptions(writeOptions);
      let query = db.deleteFrom('prompts').where('id', '=', id);
      if (writeOptions.ifVersion !== undefined) query = query.where('version', '=', writeOptions.ifVersion);
      const result = await query.executeTakeFirst();
      if (result.numDeletedRows > 0n) return true;
      await explainMissedWrite(db, { table: 'prompts', id, label: 'prompt' }, writeOptions);
      return false;
    },

    async syncDiscovered(gatewayId, prompts) {
      const issues: Issues = [];
      prompts.forEach((prompt, index) => promptDefinition(prompt, pathOf('prompts', index), issues));
      throwIfIssues(issues, 'discovered prompts');
      const listed = new Map<string, Prompt>();
      for (const prompt of prompts) if (!listed.has(prompt.name)) listed.set(prompt.name, prompt);

      return withTransaction(db, async (trx) => {
        await lockGateway(trx, gatewayId);
        const before = await trx
          .selectFrom('prompts')
          .select('original_name')
          .where('gateway_id', '=', gatewayId)
          .execute();
        const existing = new Set(before.map((row) => row.original_name));
        const now = clock();
        const changed: string[] = [];
        const rows = [...listed.values()].map((prompt) => ({
          id: discoveredId('prompt', gatewayId, prompt.name),
          gateway_id: gatewayId,
          original_name: prompt.name,
          definition: json(prompt),
          tags: '[]',
          created_at: now,
          updated_at: now,
        }));
        for (let start = 0; start < rows.length; start += SYNC_CHUNK) {
          const written = await trx
            .insertInto('prompts')
            .values(rows.slice(start, start + SYNC_CHUNK))
            .onConflict((conflict) =>
              conflict
                .columns(['gateway_id', 'original_name'])
                .doUpdateSet((eb) => ({
                  definition: eb.ref('excluded.definition'),
                  version: sql<number>`prompts.version + 1`,
                  updated_at: now,
                  updated_by: null,
                }))
                .where(sql<boolean>`prompts.definition is distinct from excluded.definition`),
            )
            .returning('original_name')
            .execute();
          changed.push(...written.map((row) => row.original_name));
        }
        let removal = trx.deleteFrom('prompts').where('gateway_id', '=', gatewayId);
        if (listed.size > 0) removal = removal.where('original_name', 'not in', [...listed.keys()]);
        const removed = await removal.returning('original_name').execute();
        return {
          added: changed.filter((name) => !existing.has(name)).sort(),
          updated: changed.filter((name) => existing.has(name)).sort(),
          removed: removed.map((row) => row.original_name).sort(),
        };
      });
    },
  };
}

const searchColumns = {
  hasGateway: true,
  table: 'prompts',
  search: [
    sql`original_name`,
    sql`alias`,
    sql`description_override`,
    sql`definition->>'description'`,
    sql`definition->>'title'`,
  ],
};

function asPromptWriteError(
  error: unknown,
  attempted: { id: string; name: string; alias?: string | null; gatewayId?: string },
): RegistryError | undefined {
  if (isForeignKeyViolation(error)) {
    return new RegistryError('invalid-input', `no gateway with id "${attempted.gatewayId ?? ''}"`, {
      cause: error,
      details: [{ path: 'gatewayId', message: 'no such gateway' }],
    });
  }
  const constraint = uniqueViolation(error);
  if (constraint === undefined) return undefined;
  if (constraint === 'prompts_alias_unique') {
    return new RegistryError('conflict', `another prompt already has the alias "${attempted.alias ?? ''}"`, {
      cause: error,
      details: { field: 'alias' },
    });
  }
  if (constraint === 'prompts_pkey' && attempted.gatewayId === undefined) {
    return new RegistryError('conflict', `a prompt with id "${attempted.id}" already exists`, {
      cause: error,
      details: { field: 'id' },
    });
  }
  const where =
    attempted.gatewayId === undefined ? 'among local prompts' : `on gateway "${attempted.gatewayId}"`;
  return new RegistryError('conflict', `a prompt named "${attempted.name}" already exists ${where}`, {
    cause: error,
    details: { field: 'name' },
  });
}

/** Row to record: snake_case to camelCase, `null` to `undefined`. */
export function toPromptRecord(row: Selectable<PromptsTable>): PromptRecord {
  return {
    id: row.id,
    gatewayId: row.gateway_id ?? undefined,
    originalName: row.original_name,
    definition: row.definition,
    template: (row.template as PromptTemplate | null) ?? undefined,
    enabled: row.enabled,
    alias: row.alias ?? undefined,
    descriptionOverride: row.description_override ?? undefined,
    tags: row.tags,
    ...ownershipOf(row),
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by ?? undefined,
    updatedBy: row.updated_by ?? undefined,
  };
}
