import type { ColumnType, Generated, Kysely } from 'kysely';

/** A jsonb column: written as JSON text, read back parsed. */
type JsonColumn<T> = ColumnType<T, string, string>;

/** Rows of the tables {@link authMigrations} create. */
export interface AuthDatabase {
  users: {
    id: string;
    username: string;
    password_hash: string | null;
    roles: JsonColumn<string[]>;
    teams: JsonColumn<string[]>;
    disabled: boolean;
    created_at: Date;
    updated_at: Date;
  };
  api_tokens: {
    id: string;
    name: string;
    hash: string;
    prefix: string;
    owner_id: string;
    roles: JsonColumn<string[]>;
    teams: JsonColumn<string[]>;
    scopes: JsonColumn<string[]>;
    virtual_servers: ColumnType<string[] | null, string | null, string | null>;
    expires_at: Date | null;
    created_at: Date;
    last_used_at: Date | null;
    revoked_at: Date | null;
  };
  jwt_revocations: {
    jti: string;
    expires_at: Date | null;
    revoked_at: Date;
  };
  tool_pins: {
    upstream_id: string;
    tool_name: string;
    approved_hash: string | null;
    approved_definition: string | null;
    approved_at: Date | null;
    approved_by: string | null;
    pending_hash: string | null;
    pending_definition: string | null;
    updated_at: Date;
  };
  rate_limit_buckets: {
    key: string;
    tokens: number;
    updated_ms: number;
    allowed: Generated<boolean>;
  };
}

/**
 * The stores take the application's `Kysely<any>` (its own schema type knows nothing of these tables) and view it
 * through {@link AuthDatabase}.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function asAuthDatabase(db: Kysely<any>): Kysely<AuthDatabase> {
  return db as Kysely<AuthDatabase>;
}
