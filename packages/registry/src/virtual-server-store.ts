import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable, Updateable } from 'kysely';
import { sql } from 'kysely';
import {
  actor,
  alias,
  bool,
  checkShape,
  description,
  icon,
  isPlainObject,
  list,
  oneOf,
  pathOf,
  resourceAlias,
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
import type { RegistryDatabase, VirtualServersTable } from './registry-database.ts';
import {
  checkWriteOptions,
  explainMissedWrite,
  json,
  uniqueTags,
  uniqueViolation,
  withTransaction,
} from './store-support.ts';
import type { WriteOptions } from './store-support.ts';

/** What a virtual server can be made of. */
export type VirtualServerMemberKind = 'tool' | 'prompt' | 'resource';

/** A member as given to {@link VirtualServerStore.create} and `update`: an item by id, optionally renamed. */
export interface VirtualServerMemberInput {
  kind: VirtualServerMemberKind;
  /** The id of a tool, prompt or resource (resource template) record. */
  id: string;
  /**
   * The item's public name inside this virtual server (tools and prompts: 1–64 of `[A-Za-z0-9_-]`; resources: a URI
   * without whitespace). Unique per kind within the server.
   */
  alias?: string;
}

/** A member as stored: its place in the server's order (0-based) included. */
export interface VirtualServerMember {
  kind: VirtualServerMemberKind;
  id: string;
  alias?: string;
  position: number;
}

/** One virtual server with its members. */
export interface VirtualServerRecord extends Ownership {
  id: string;
  /** Unique across virtual servers. */
  name: string;
  description?: string;
  /** An http(s) URL or a `data:image/…` URI. */
  icon?: string;
  enabled: boolean;
  tags: string[];
  /** Every member, in order, including missing ones. */
  members: VirtualServerMember[];
  /**
   * Members whose item no longer exists (deleted, or no longer listed by its upstream): the server stays valid and
   * serves the rest; this is what its status should show. A member comes back if its item is listed again.
   */
  missingMembers: VirtualServerMember[];
  version: number;
  createdAt: Date;
  updatedAt: Date;
  createdBy?: string;
  updatedBy?: string;
}

/** What {@link VirtualServerStore.create} takes. */
export interface VirtualServerInput extends Partial<Ownership> {
  name: string;
  description?: string;
  icon?: string;
  enabled?: boolean;
  tags?: string[];
  /** Default: none. Every id must exist. */
  members?: VirtualServerMemberInput[];
  createdBy?: string;
}

/** What {@link VirtualServerStore.update} takes: absent keeps a value, `null` clears; `members` replaces them all. */
export interface VirtualServerPatch extends OwnershipPatch {
  name?: string;
  description?: string | null;
  icon?: string | null;
  enabled?: boolean;
  tags?: string[];
  members?: VirtualServerMemberInput[];
  updatedBy?: string;
}

/** Filters and paging for {@link VirtualServerStore.list}: `search` looks in name and description. */
export type VirtualServerListOptions = Omit<ListOptions, 'gatewayId'>;

/** Options for {@link createVirtualServerStore}. */
export interface VirtualServerStoreOptions {
  db: Kysely<RegistryDatabase>;
  /** Default: `() => new Date()`. */
  clock?: () => Date;
  /** Default: `crypto.randomUUID`. */
  generateId?: () => string;
}

/** Reads and writes virtual servers and their members. */
export interface VirtualServerStore {
  list(options?: VirtualServerListOptions): Promise<Page<VirtualServerRecord>>;
  /** `undefined` also when `visibleTo` may not see it. */
  get(id: string, options?: GetOptions): Promise<VirtualServerRecord | undefined>;
  /**
   * Inserts a server and its members in one transaction. `'conflict'` (`details.field: 'name'`) when the name is
   * taken; `'invalid-input'` listing every bad field, a member listed twice, an alias used twice, or a member id that
   * does not exist (`members.2.id`).
   */
  create(input: VirtualServerInput): Promise<VirtualServerRecord>;
  /** Applies `patch` in one transaction, adds 1 to `version`; `ifVersion` as in {@link ToolStore.update}. */
  update(
    id: string,
    patch: VirtualServerPatch,
    options?: WriteOptions,
  ): Promise<VirtualServerRecord | undefined>;
  /** Deletes the server and its members; `false` when there was none. */
  remove(id: string, options?: WriteOptions): Promise<boolean>;
}

const memberKinds = ['tool', 'prompt', 'resource'] as const;

const serverName = text({
  maxLength: 100,
  pattern: /^[A-Za-z0-9][A-Za-z0-9 ._-]*$/,
  message: 'must start with a letter or digit and contain only letters, digits, spaces, ".", "_" and "-"',
});

const memberShape: Shape = {
  required: ['kind', 'id'],
  fields: {
    kind: { check: oneOf(memberKinds) },
    id: { check: text() },
    // The syntax depends on the kind: checked by checkMemberList.
    alias: { check: text({ allowEmpty: true }) },
  },
};

const members = list((value, path, issues) => checkShape(memberShape)(value, path, issues));

const inputShape: Shape = {
  required: ['name'],
  fields: {
    ...ownershipInputFields,
    name: { check: serverName },
    description: { check: description },
    icon: { check: icon },
    enabled: { check: bool },
    tags: { check: tags },
    members: { check: members },
    createdBy: { check: actor },
  },
};

const patchShape: Shape = {
  fields: {
    ...ownershipPatchFields,
    name: { check: serverName },
    description: { check: description, nullable: true },
    icon: { check: icon, nullable: true },
    enabled: { check: bool },
    tags: { check: tags },
    members: { check: members },
    updatedBy: { check: actor },
  },
};

/**
 * Checks what a list of members says on its own: alias syntax by kind, no item twice, no alias twice per kind.
 * Paths are `${base}.${index}…`.
 */
export function checkMemberList(value: unknown, base: string, issues: Issues): void {
  if (!Array.isArray(value)) return;
  const seen = new Set<string>();
  const aliases = new Set<string>();
  value.forEach((member: unknown, index) => {
    if (!isPlainObject(member) || typeof member.kind !== 'string') return;
    const path = pathOf(base, index);
    if (typeof member.id === 'string') {
      const key = `${member.kind}\u0000${member.id}`;
      if (seen.has(key)) issues.push({ path, message: `the ${member.kind} "${member.id}" is listed twice` });
      seen.add(key);
    }
    if (typeof member.alias === 'string') {
      const before = issues.length;
      (member.kind === 'resource' ? resourceAlias : alias)(member.alias, pathOf(path, 'alias'), issues);
      const key = `${member.kind}\u0000${member.alias}`;
      if (issues.length === before && aliases.has(key)) {
        issues.push({
          path: pathOf(path, 'alias'),
          message: `another ${member.kind} already has the alias "${member.alias}"`,
        });
      }
      aliases.add(key);
    }
  });
}

/** Creates the store for virtual servers on a migrated database (see {@link createDatabase}). */
export function createVirtualServerStore(options: VirtualServerStoreOptions): VirtualServerStore {
  const { db } = options;
  if (typeof db?.selectFrom !== 'function') {
    throw new TypeError('createVirtualServerStore: `db` must be a Kysely instance');
  }
  const clock = options.clock ?? (() => new Date());
  const generateId = options.generateId ?? randomUUID;

  return {
    async list(listOptions = {}) {
      const limit = resolveLimit(listOptions.limit);
      let query = db.selectFrom('virtual_servers').selectAll();
      for (const condition of listConditions(listOptions, searchColumns)) query = query.where(condition);
      const rows = await query
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit + 1)
        .execute();
      const page = pageOf(rows, limit, (row) => row);
      const membersById = await readMembers(
        db,
        page.items.map((row) => row.id),
      );
      return {
        ...page,
        items: page.items.map((row) => toVirtualServerRecord(row, membersById.get(row.id) ?? [])),
      };
    },

    async get(id, getOptions = {}) {
      let query = db.selectFrom('virtual_servers').selectAll().where('id', '=', id);
      if (getOptions.visibleTo !== undefined)
        query = query.where(visibleCondition('virtual_servers', false, getOptions.visibleTo));
      const row = await query.executeTakeFirst();
      if (row === undefined) return undefined;
      const membersById = await readMembers(db, [id]);
      return toVirtualServerRecord(row, membersById.get(id) ?? []);
    },

    async create(input) {
      const issues: Issues = [];
      checkShape(inputShape)(input, '', issues);
      checkMemberList(input.members, 'members', issues);
      throwIfIssues(issues, 'virtual server');
      const id = generateId();
      try {
        return await withTransaction(db, async (trx) => {
          await checkMembersExist(trx, input.members ?? []);
          const now = clock();
          const row = await trx
            .insertInto('virtual_servers')
            .values({
              id,
              name: input.name,
              description: input.description ?? null,
              icon: input.icon ?? null,
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
          await writeMembers(trx, id, input.members ?? []);
          return toVirtualServerRecord(row, storedMembers(input.members ?? []));
        });
      } catch (error) {
        throw asNameConflict(error, { id, name: input.name }) ?? error;
      }
    },

    async update(id, patch, writeOptions = {}) {
      checkWriteOptions(writeOptions);
      const issues: Issues = [];
      checkShape(patchShape)(patch, '', issues);
      checkMemberList(patch.members, 'members', issues);
      throwIfIssues(issues, 'virtual server patch');
      const values: Updateable<VirtualServersTable> = {
        updated_at: clock(),
        updated_by: patch.updatedBy ?? null,
        ...ownershipPatchValues(patch),
      };
      if (patch.name !== undefined) values.name = patch.name;
      if (patch.description !== undefined) values.description = patch.description;
      if (patch.icon !== undefined) values.icon = patch.icon;
      if (patch.enabled !== undefined) values.enabled = patch.enabled;
      if (patch.tags !== undefined) values.tags = json(uniqueTags(patch.tags));
      try {
        return await withTransaction(db, async (trx) => {
          if (patch.members !== undefined) await checkMembersExist(trx, patch.members);
          let query = trx
            .updateTable('virtual_servers')
            .set(values)
            .set((eb) => ({ version: eb('version', '+', 1) }))
            .where('id', '=', id);
          if (writeOptions.ifVersion !== undefined)
            query = query.where('version', '=', writeOptions.ifVersion);
          const row = await query.returningAll().executeTakeFirst();
          if (row === undefined) {
            return explainMissedWrite(
              trx,
              { table: 'virtual_servers', id, label: 'virtual server' },
              writeOptions,
            );
          }
          if (patch.members !== undefined) {
            await trx.deleteFrom('virtual_server_members').where('virtual_server_id', '=', id).execute();
            await writeMembers(trx, id, patch.members);
          }
          const membersById = await readMembers(trx, [id]);
          return toVirtualServerRecord(row, membersById.get(id) ?? []);
        });
      } catch (error) {
        throw asNameConflict(error, { id, name: patch.name ?? '' }) ?? error;
      }
    },

    async remove(id, writeOptions = {}) {
      checkWriteOptions(writeOptions);
      let query = db.deleteFrom('virtual_servers').where('id', '=', id);
      if (writeOptions.ifVersion !== undefined) query = query.where('version', '=', writeOptions.ifVersion);
      const result = await query.executeTakeFirst();
      if (result.numDeletedRows > 0n) return true;
      await explainMissedWrite(db, { table: 'virtual_servers', id, label: 'virtual server' }, writeOptions);
      return false;
    },
  };
}

const searchColumns = { hasGateway: false, table: 'virtual_servers', search: [sql`name`, sql`description`] };

const tableOfKind = { tool: 'tools', prompt: 'prompts', resource: 'resources' } as const;

/** `'invalid-input'` naming every member whose item does not exist. */
async function checkMembersExist(
  trx: Kysely<RegistryDatabase>,
  members: readonly VirtualServerMemberInput[],
): Promise<void> {
  const issues: Issues = [];
  for (const kind of memberKinds) {
    const wanted = members.filter((member) => member.kind === kind).map((member) => member.id);
    if (wanted.length === 0) continue;
    const found = await trx.selectFrom(tableOfKind[kind]).select('id').where('id', 'in', wanted).execute();
    const present = new Set(found.map((row) => row.id));
    members.forEach((member, index) => {
      if (member.kind === kind && !present.has(member.id)) {
        issues.push({ path: `members.${index}.id`, message: `no ${kind} with id "${member.id}"` });
      }
    });
  }
  issues.sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true }));
  throwIfIssues(issues, 'virtual server members');
}

async function writeMembers(
  trx: Kysely<RegistryDatabase>,
  virtualServerId: string,
  members: readonly VirtualServerMemberInput[],
): Promise<void> {
  if (members.length === 0) return;
  await trx
    .insertInto('virtual_server_members')
    .values(
      members.map((member, position) => ({
        virtual_server_id: virtualServerId,
        member_kind: member.kind,
        member_id: member.id,
        alias: member.alias ?? null,
        position,
      })),
    )
    .execute();
}

/** Members as they will read back, for a server just written with `members`. */
function storedMembers(members: readonly VirtualServerMemberInput[]): StoredMember[] {
  return members.map((member, position) => ({
    kind: member.kind,
    id: member.id,
    alias: member.alias,
    position,
    present: true,
  }));
}

interface StoredMember extends VirtualServerMember {
  present: boolean;
}

/** The members of these servers, in order, each flagged present or missing (one query). */
export async function readMembers(
  db: Kysely<RegistryDatabase>,
  virtualServerIds: readonly string[],
): Promise<Map<string, StoredMember[]>> {
  const byServer = new Map<string, StoredMember[]>();
  if (virtualServerIds.length === 0) return byServer;
  const rows = await db
    .selectFrom('virtual_server_members as m')
    .leftJoin('tools as t', (join) => join.onRef('t.id', '=', 'm.member_id').on('m.member_kind', '=', 'tool'))
    .leftJoin('prompts as p', (join) =>
      join.onRef('p.id', '=', 'm.member_id').on('m.member_kind', '=', 'prompt'),
    )
    .leftJoin('resources as r', (join) =>
      join.onRef('r.id', '=', 'm.member_id').on('m.member_kind', '=', 'resource'),
    )
    .select(['m.virtual_server_id', 'm.member_kind', 'm.member_id', 'm.alias', 'm.position'])
    .select(sql<boolean>`coalesce(t.id, p.id, r.id) is not null`.as('present'))
    .where('m.virtual_server_id', 'in', [...virtualServerIds])
    .orderBy('m.virtual_server_id')
    .orderBy('m.position')
    .execute();
  for (const row of rows) {
    const members = byServer.get(row.virtual_server_id) ?? [];
    members.push({
      kind: row.member_kind as VirtualServerMemberKind,
      id: row.member_id,
      alias: row.alias ?? undefined,
      position: row.position,
      present: row.present,
    });
    byServer.set(row.virtual_server_id, members);
  }
  return byServer;
}

function asNameConflict(error: unknown, attempted: { id: string; name: string }): RegistryError | undefined {
  const constraint = uniqueViolation(error);
  if (constraint === undefined) return undefined;
  if (constraint === 'virtual_servers_pkey') {
    return new RegistryError('conflict', `a virtual server with id "${attempted.id}" already exists`, {
      cause: error,
      details: { field: 'id' },
    });
  }
  return new RegistryError('conflict', `a virtual server named "${attempted.name}" already exists`, {
    cause: error,
    details: { field: 'name' },
  });
}

/** Row and members to record. */
export function toVirtualServerRecord(
  row: Selectable<VirtualServersTable>,
  members: readonly StoredMember[],
): VirtualServerRecord {
  const plain = ({ kind, id, alias: memberAlias, position }: StoredMember): VirtualServerMember => ({
    kind,
    id,
    alias: memberAlias,
    position,
  });
  return {
    id: row.id,
    name: row.name,
    description: row.description ?? undefined,
    icon: row.icon ?? undefined,
    enabled: row.enabled,
    tags: row.tags,
    ...ownershipOf(row),
    members: members.map(plain),
    missingMembers: members.filter((member) => !member.present).map(plain),
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by ?? undefined,
    updatedBy: row.updated_by ?? undefined,
  };
}
