import type { Context } from 'hono';
import { GatewayError } from '@mcp-gateway/core';
import { RegistryError } from '@mcp-gateway/registry';

/** What an ETag is made of: every registry record has an id and a version that each change raises by 1. */
export interface VersionedRecord {
  id: string;
  version: number;
}

/**
 * The ETag of a record: `W/"<id>-<version>"`. Weak, because the JSON a client sees may change (a new field) without
 * the record changing; the version alone decides whether a write is based on the current record.
 */
export function etagOf(record: VersionedRecord): string {
  return `W/"${record.id}-${record.version}"`;
}

/** Sets the `ETag` response header of a record. */
export function setEtag(c: Context, record: VersionedRecord): void {
  c.header('etag', etagOf(record));
}

const ETAG = /^(?:W\/)?"([^"]+)-(\d{1,15})"$/;

/**
 * The version an `If-Match` header asks a write to be based on, or `undefined` when there is no header or it is `*`
 * (any current version). Weak ETags are accepted here, unlike RFC 9110's strong comparison: ours name an exact
 * version, so they are as precise as a strong one. Throws a 400 (`invalid-input`) for anything but one ETag this API
 * sent or `*`, and a 412 (`precondition-failed`) for an ETag of another record than `record`.
 */
export function ifMatchVersion(c: Context, record?: { id: string }): number | undefined {
  const header = c.req.header('if-match')?.trim();
  if (header === undefined || header === '' || header === '*') return undefined;
  const match = ETAG.exec(header);
  const version = match === null ? Number.NaN : Number(match[2]);
  if (match === null || !Number.isSafeInteger(version) || version < 1) {
    throw new GatewayError(
      'invalid-input',
      'If-Match must be one ETag this API sent (W/"<id>-<version>") or *; send the ETag header of your last GET',
      { details: [{ path: 'If-Match', message: 'is not an ETag this API sent' }] },
    );
  }
  const id = match[1] ?? '';
  if (record !== undefined && id !== record.id) {
    throw new RegistryError(
      'precondition-failed',
      `If-Match names "${id}", not "${record.id}"; send the ETag of the record you are changing`,
      { details: { id: record.id, ifMatch: header } },
    );
  }
  return version;
}

/**
 * Runs a write made with `{ ifVersion }` and, when the record changed meanwhile, rethrows the store's
 * `precondition-failed` (a 412) with a message that tells the client what to do: `tool changed since you read it
 * (version 3 now, you sent 2); GET it again and retry`. `label` names the kind of record.
 */
export async function withVersionCheck<T>(label: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!(error instanceof RegistryError) || error.code !== 'precondition-failed') throw error;
    const details = (error.details ?? {}) as Record<string, unknown>;
    const { id, actualVersion, expectedVersion } = details;
    if (typeof id !== 'string' || typeof actualVersion !== 'number') throw error;
    throw new RegistryError(
      'precondition-failed',
      `${label} changed since you read it (version ${actualVersion} now, you sent ${String(expectedVersion)}); GET it again and retry`,
      { cause: error, details: { ...details, etag: etagOf({ id, version: actualVersion }) } },
    );
  }
}

/**
 * Whether `If-None-Match` already names the record's current ETag, so a GET can answer 304 with no body. Weak
 * comparison, as RFC 9110 prescribes for `If-None-Match`; a list of ETags and `*` are understood.
 */
export function isNotModified(c: Context, record: VersionedRecord): boolean {
  const header = c.req.header('if-none-match');
  if (header === undefined) return false;
  const current = `"${record.id}-${record.version}"`;
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === current);
}
