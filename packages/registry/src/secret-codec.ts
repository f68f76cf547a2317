import type { Kysely } from 'kysely';
import type { RegistryDatabase } from './registry-database.ts';
import { json, jsonOrNull, withTransaction } from './store-support.ts';

/**
 * How the registry keeps upstream secrets at rest. The stores call `seal` on every secret value they write and `open`
 * on every one they read, so records always hold plain values and rows hold whatever `seal` returned. The registry
 * does not know the cipher: the app adapts one (AES-256-GCM in `@mcp-gateway/auth`) to this interface.
 *
 * Which values are secrets: every value of a gateway's `headers` and `env`; in a tool's `integrationConfig`, the
 * values of `env`, the static `value`s of `headers`, and the credential fields of `auth` (`token`, `password`,
 * `value`, `clientSecret`; an object or a list of them, as REST tools define it).
 */
export interface SecretCodec {
  /** The value as it is stored. Must give a value `isSealed` recognises. */
  seal(plain: string): string;
  /** The plain value of a sealed one; throws (a clear error naming the missing key) when it cannot. */
  open(stored: string): string;
  /** True when `stored` was written by `seal` (any key); plain values written before a key existed are not. */
  isSealed(stored: string): boolean;
  /** True when a sealed value should be sealed again (it is under an older key). Default: never. */
  needsReseal?(stored: string): boolean;
}

/** What {@link resealSecrets} did, counted in secret values. */
export interface ResealResult {
  /** Values sealed again under the current key (they were under an older one). */
  resealed: number;
  /** Values that were stored in plain (written before a key was configured) and are now sealed. */
  sealed: number;
  /** Values already sealed under the current key. */
  unchanged: number;
}

type Transform = (value: string) => string;

const openWith =
  (codec: SecretCodec): Transform =>
  (value) =>
    codec.isSealed(value) ? codec.open(value) : value;

const sealWith =
  (codec: SecretCodec): Transform =>
  (value) =>
    codec.isSealed(value) ? value : codec.seal(value);

function mapValues(values: Record<string, string>, transform: Transform): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, transform(value)]));
}

const AUTH_SECRET_FIELDS = new Set(['token', 'password', 'value', 'clientSecret']);

function mapAuth(auth: unknown, transform: Transform): unknown {
  if (Array.isArray(auth)) return auth.map((item: unknown) => mapAuth(item, transform));
  if (typeof auth !== 'object' || auth === null) return auth;
  return Object.fromEntries(
    Object.entries(auth).map(([key, value]) => [
      key,
      typeof value === 'string' && AUTH_SECRET_FIELDS.has(key) ? transform(value) : value,
    ]),
  );
}

/** Applies `transform` to the secret values of a tool's `integrationConfig` (see {@link SecretCodec}). */
function mapIntegrationConfig(
  config: Record<string, unknown>,
  transform: Transform,
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...config };
  const { auth, headers, env } = config;
  // Only the credential fields: `type`, `in`, `name`, `username`, `tokenUrl`, `clientId` stay readable.
  if (auth !== undefined) result.auth = mapAuth(auth, transform);
  if (typeof headers === 'object' && headers !== null && !Array.isArray(headers)) {
    result.headers = Object.fromEntries(
      Object.entries(headers).map(([name, source]) => [
        name,
        typeof source === 'object' &&
        source !== null &&
        'value' in source &&
        typeof (source as { value: unknown }).value === 'string'
          ? { ...source, value: transform((source as { value: string }).value) }
          : source,
      ]),
    );
  }
  if (typeof env === 'object' && env !== null && !Array.isArray(env)) {
    result.env = Object.fromEntries(
      Object.entries(env).map(([name, value]) => [
        name,
        typeof value === 'string' ? transform(value) : value,
      ]),
    );
  }
  return result;
}

/** The gateway columns that hold secrets, sealed for writing (plain when no codec is configured). */
export function sealGatewaySecrets(
  values: Record<string, string>,
  codec: SecretCodec | undefined,
): Record<string, string> {
  return codec === undefined ? values : mapValues(values, sealWith(codec));
}

/** Header or env values as read from a row, opened. */
export function openGatewaySecrets(
  values: Record<string, string>,
  codec: SecretCodec | undefined,
): Record<string, string> {
  return codec === undefined ? values : mapValues(values, openWith(codec));
}

/** A tool's `integrationConfig` with its secret values sealed (unchanged without a codec). */
export function sealIntegrationConfig<T extends Record<string, unknown> | null | undefined>(
  config: T,
  codec: SecretCodec | undefined,
): T {
  if (codec === undefined || config === null || config === undefined) return config;
  return mapIntegrationConfig(config, sealWith(codec)) as T;
}

/** A tool's `integrationConfig` as read from a row, its secret values opened. */
export function openIntegrationConfig<T extends Record<string, unknown> | null | undefined>(
  config: T,
  codec: SecretCodec | undefined,
): T {
  if (codec === undefined || config === null || config === undefined) return config;
  return mapIntegrationConfig(config, openWith(codec)) as T;
}

/**
 * Seals every stored secret under the codec's current key, in one transaction: plain values (written before a key was
 * configured) are sealed, values under an older key (`needsReseal`) are opened and sealed again, the rest are left as
 * they are. Rows keep their `version`: what they mean does not change. Running gateways must already hold the new key
 * (as their current or a previous one) to read the rows afterwards.
 */
export async function resealSecrets(
  db: Kysely<RegistryDatabase>,
  options: { secrets: SecretCodec },
): Promise<ResealResult> {
  const codec = options.secrets;
  const result: ResealResult = { resealed: 0, sealed: 0, unchanged: 0 };
  const reseal: Transform = (value) => {
    if (!codec.isSealed(value)) {
      result.sealed += 1;
      return codec.seal(value);
    }
    if (codec.needsReseal?.(value) === true) {
      result.resealed += 1;
      return codec.seal(codec.open(value));
    }
    result.unchanged += 1;
    return value;
  };
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

  return withTransaction(db, async (trx) => {
    const gateways = await trx
      .selectFrom('gateways')
      .select(['id', 'headers', 'env'])
      .orderBy('id')
      .forUpdate()
      .execute();
    for (const row of gateways) {
      const headers = mapValues(row.headers, reseal);
      const env = mapValues(row.env, reseal);
      if (same(headers, row.headers) && same(env, row.env)) continue;
      await trx
        .updateTable('gateways')
        .set({ headers: json(headers), env: json(env) })
        .where('id', '=', row.id)
        .execute();
    }
    const tools = await trx
      .selectFrom('tools')
      .select(['id', 'integration_config'])
      .where('integration_config', 'is not', null)
      .orderBy('id')
      .forUpdate()
      .execute();
    for (const row of tools) {
      if (row.integration_config === null) continue;
      const config = mapIntegrationConfig(row.integration_config, reseal);
      if (same(config, row.integration_config)) continue;
      await trx
        .updateTable('tools')
        .set({ integration_config: jsonOrNull(config) })
        .where('id', '=', row.id)
        .execute();
    }
    return result;
  });
}
