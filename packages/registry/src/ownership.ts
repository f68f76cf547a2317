// Ownership and visibility of registry entities: the types, the rule for items discovered under a gateway, and the
// same rule as SQL for list and get queries.
import type { Expression, RawBuilder, SqlBool } from 'kysely';
import { sql } from 'kysely';
import { oneOf, text } from './catalog-validation.ts';
import type { FieldRule } from './catalog-validation.ts';

/** Who may see an entity, from the most to the least restrictive. */
export const VISIBILITIES = ['private', 'team', 'public'] as const;

/** `private`: its owner; `team`: its owner and the members of its team; `public`: everyone. */
export type Visibility = (typeof VISIBILITIES)[number];

/** Who owns an entity and who may see it, as every store record carries it. */
export interface Ownership {
  /** The owning user's id (a principal id of the auth layer). */
  owner?: string;
  /** The owning team's id. */
  team?: string;
  visibility: Visibility;
}

/**
 * Whose view a `list` (or `get`) is: only entities this principal may see are returned. Absent means every row
 * (admins, and the gateway itself).
 */
export interface VisibilityFilter {
  /** Absent for a caller without an identity (anonymous): it owns nothing. */
  principalId?: string;
  teams: readonly string[];
}

/** Options of a store's `get`. */
export interface GetOptions {
  /** `undefined` for an entity this principal may not see, exactly as for an unknown id. */
  visibleTo?: VisibilityFilter;
}

const RANK: Record<Visibility, number> = { public: 0, team: 1, private: 2 };

/**
 * The ownership that decides who sees an item discovered under a gateway: the gateway's, unless the item's own row is
 * more restrictive (private > team > public); then the item's. Local items (no gateway) use their own row.
 */
export function effectiveOwnership(item: Ownership, gateway: Ownership | undefined): Ownership {
  if (gateway === undefined || RANK[item.visibility] > RANK[gateway.visibility]) return item;
  return gateway;
}

// ---- Internal: rows, validation and SQL (not exported from index.ts) ----------------------------------------------

/** The ownership columns of a row, as a record's fields. */
export function ownershipOf(row: {
  owner_id: string | null;
  team_id: string | null;
  visibility: string;
}): Ownership {
  return {
    owner: row.owner_id ?? undefined,
    team: row.team_id ?? undefined,
    visibility: row.visibility as Visibility,
  };
}

/** Insert values for the ownership of a new row (the column default makes it `public`). */
export function ownershipValues(input: Partial<Ownership>): {
  owner_id: string | null;
  team_id: string | null;
  visibility?: Visibility;
} {
  return {
    owner_id: input.owner ?? null,
    team_id: input.team ?? null,
    ...(input.visibility === undefined ? {} : { visibility: input.visibility }),
  };
}

/** What a patch changes of the ownership: absent keeps a value, `null` clears the owner or team. */
export interface OwnershipPatch {
  owner?: string | null;
  team?: string | null;
  visibility?: Visibility;
}

/** Update values for an {@link OwnershipPatch}. */
export function ownershipPatchValues(patch: OwnershipPatch): {
  owner_id?: string | null;
  team_id?: string | null;
  visibility?: Visibility;
} {
  return {
    ...(patch.owner === undefined ? {} : { owner_id: patch.owner }),
    ...(patch.team === undefined ? {} : { team_id: patch.team }),
    ...(patch.visibility === undefined ? {} : { visibility: patch.visibility }),
  };
}

const principalId = text({ maxLength: 200 });

/** Shape rules of the ownership fields of an input. */
export const ownershipInputFields: Readonly<Record<keyof Ownership, FieldRule>> = {
  owner: { check: principalId },
  team: { check: principalId },
  visibility: { check: oneOf(VISIBILITIES) },
};

/** Shape rules of the ownership fields of a patch (`null` clears owner and team). */
export const ownershipPatchFields: Readonly<Record<keyof Ownership, FieldRule>> = {
  owner: { check: principalId, nullable: true },
  team: { check: principalId, nullable: true },
  visibility: { check: oneOf(VISIBILITIES) },
};

/** The rows of `table` (as named in the query) that `filter`'s principal may see, by their own columns only. */
function visibleRow(table: string, filter: VisibilityFilter): RawBuilder<SqlBool> {
  const column = (name: string) => sql.ref(`${table}.${name}`);
  const team =
    filter.teams.length === 0
      ? sql<SqlBool>`false`
      : sql<SqlBool>`(${column('visibility')} = 'team' and ${column('team_id')} in (${sql.join([...filter.teams])}))`;
  const owner =
    filter.principalId === undefined
      ? sql<SqlBool>`false`
      : sql<SqlBool>`${column('owner_id')} = ${filter.principalId}`;
  return sql<SqlBool>`(${column('visibility')} = 'public' or ${owner} or ${team})`;
}

function rank(table: string): RawBuilder<number> {
  return sql<number>`case ${sql.ref(`${table}.visibility`)} when 'private' then 2 when 'team' then 1 else 0 end`;
}

/**
 * The condition "the principal may see this row" on `table`. For tables with a `gateway_id`, a discovered item is
 * judged by {@link effectiveOwnership}: its gateway's ownership unless its own row is more restrictive.
 */
export function visibleCondition(
  table: string,
  hasGateway: boolean,
  filter: VisibilityFilter,
): Expression<SqlBool> {
  if (!hasGateway) return visibleRow(table, filter);
  const gatewayId = sql.ref(`${table}.gateway_id`);
  return sql<SqlBool>`((${gatewayId} is null and ${visibleRow(table, filter)}) or exists (
    select 1 from gateways as owning_gateway
    where owning_gateway.id = ${gatewayId}
      and case when ${rank(table)} > ${rank('owning_gateway')} then ${visibleRow(table, filter)}
               else ${visibleRow('owning_gateway', filter)} end))`;
}
