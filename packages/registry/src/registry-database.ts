import type { ColumnType, Generated } from 'kysely';

/**
 * A jsonb column: reads give the parsed value; writes take JSON text, because `pg` would turn a JS array into a
 * Postgres array literal rather than JSON.
 */
export type JsonColumn<T> = ColumnType<T, string | undefined, string>;

/** A timestamptz column: both drivers read it as a `Date`. */
export type TimestampColumn = ColumnType<Date, Date, Date>;

/** The `gateways` table as Kysely sees it (snake_case, `null` for absent values). */
export interface GatewaysTable {
  id: string;
  name: string;
  transport: string;
  command: string | null;
  args: JsonColumn<string[]>;
  env: JsonColumn<Record<string, string>>;
  cwd: string | null;
  url: string | null;
  headers: JsonColumn<Record<string, string>>;
  /** `null`: the app derives it from the name; `''`: tools are not prefixed. */
  namespace: string | null;
  enabled: Generated<boolean>;
  timeout_ms: number | null;
  tags: JsonColumn<string[]>;
  version: Generated<number>;
  created_at: TimestampColumn;
  updated_at: TimestampColumn;
  created_by: string | null;
  updated_by: string | null;
}

/** Every table the registry's migrations create, for `Kysely<RegistryDatabase>`. */
export interface RegistryDatabase {
  gateways: GatewaysTable;
}
