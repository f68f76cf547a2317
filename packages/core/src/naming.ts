import { createHash } from 'node:crypto';

/** Public tool and prompt names match this pattern (the strictest form every MCP client accepts). */
export const PUBLIC_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** The default separator between an upstream's namespace and an item's original name. */
export const DEFAULT_NAME_SEPARATOR = '__';
/** The scheme of namespaced resource URIs: `mcpgw://{namespace}/{original uri}`. */
export const NAMESPACED_URI_PREFIX = 'mcpgw://';

const MAX_NAME_LENGTH = 64;
const HASH_LENGTH = 8;
const MAX_NAMESPACE_LENGTH = 32;

/**
 * The default namespace of an upstream: a lowercase slug of its name (`"GitHub Tools"` → `github-tools`), at most
 * 32 characters, never containing the separator.
 */
export function slugifyNamespace(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_NAMESPACE_LENGTH)
    .replace(/-+$/g, '');
  return slug === '' ? 'upstream' : slug;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, HASH_LENGTH);
}

/**
 * The public name of an upstream's tool or prompt: `namespace + separator + name`, or the bare name for the empty
 * namespace. Names are never lowercased or rewritten when they already fit `PUBLIC_NAME_PATTERN`. A name that is too
 * long, or holds characters outside the pattern, is made safe and shortened with a hash of the original pair, so
 * the result is deterministic (the same on every replica) and unique. The way back is a lookup in the catalog.
 */
export function toPublicName(namespace: string, name: string, separator = DEFAULT_NAME_SEPARATOR): string {
  const joined = namespace === '' ? name : `${namespace}${separator}${name}`;
  if (PUBLIC_NAME_PATTERN.test(joined)) return joined;
  const safe = joined.replace(/[^A-Za-z0-9_-]/g, '_');
  const hash = shortHash(`${namespace}\u0000${name}`);
  return `${safe.slice(0, MAX_NAME_LENGTH - HASH_LENGTH - 1)}-${hash}`;
}

/** Wraps an upstream's resource URI (or URI template) so that two upstreams' `file:///a` never collide. */
export function toPublicUri(namespace: string, uri: string): string {
  return namespace === '' ? uri : `${NAMESPACED_URI_PREFIX}${namespace}/${uri}`;
}

/**
 * Undoes {@link toPublicUri}: the namespace and the original URI, or `undefined` when the URI is not namespaced
 * (it then belongs to an upstream exposed without a prefix).
 */
export function parsePublicUri(uri: string): { namespace: string; uri: string } | undefined {
  if (!uri.startsWith(NAMESPACED_URI_PREFIX)) return undefined;
  const rest = uri.slice(NAMESPACED_URI_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  return { namespace: rest.slice(0, slash), uri: rest.slice(slash + 1) };
}
