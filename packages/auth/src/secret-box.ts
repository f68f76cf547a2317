import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { GatewayError } from '@mcp-gateway/core';

/** Options of {@link createSecretBox}. */
export interface SecretBoxOptions {
  /** Key id → 32-byte key (bytes, or base64/hex text). Ids are `[A-Za-z0-9_-]{1,32}`. */
  keys: Readonly<Record<string, Uint8Array | string>>;
  /** The key new secrets are encrypted with; the others only decrypt (during a rotation). */
  activeKeyId: string;
}

/**
 * Encrypts upstream credentials at rest with AES-256-GCM. Each ciphertext is an envelope
 * `v1:<keyId>:<iv>:<tag>:<ciphertext>` (base64url parts) that names its key, so keys can be rotated: add a new
 * active key, keep the old one for decryption, `rotate` every stored secret, then drop the old key.
 */
export interface SecretBox {
  readonly activeKeyId: string;
  encrypt(plaintext: string): string;
  /** Throws `GatewayError('invalid-input')` when the envelope was altered, `('config-invalid')` for an unknown key. */
  decrypt(envelope: string): string;
  /** The same secret under the active key (unchanged when it already is). */
  rotate(envelope: string): string;
  /** True when the envelope is under another key than the active one. */
  needsRotation(envelope: string): boolean;
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const ENVELOPE_PATTERN = /^v1:([A-Za-z0-9_-]{1,32}):([A-Za-z0-9_-]+):([A-Za-z0-9_-]+):([A-Za-z0-9_-]*)$/;

/** True when `value` has the shape of a {@link SecretBox} envelope. */
export function isSecretEnvelope(value: string): boolean {
  return ENVELOPE_PATTERN.test(value);
}

/** Reads a 32-byte key written as 64 hex digits or as base64/base64url; throws `config-invalid` otherwise. */
export function parseSecretKey(text: string, name = 'secret key'): Uint8Array {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)
      ? Buffer.from(trimmed, 'base64')
      : Buffer.alloc(0);
  if (bytes.length !== KEY_BYTES) {
    throw new GatewayError(
      'config-invalid',
      `${name} must be 32 bytes, written as 64 hex digits or base64 (generate one with: openssl rand -base64 32)`,
    );
  }
  return new Uint8Array(bytes);
}

/** Creates a {@link SecretBox}; throws `GatewayError('config-invalid')` on a bad key or key id. */
export function createSecretBox(options: SecretBoxOptions): SecretBox {
  const keys = new Map<string, Uint8Array>();
  for (const [id, key] of Object.entries(options.keys)) {
    if (!KEY_ID_PATTERN.test(id)) {
      throw new GatewayError('config-invalid', `secret key id "${id}" must match [A-Za-z0-9_-]{1,32}`);
    }
    const bytes = typeof key === 'string' ? parseSecretKey(key, `secret key "${id}"`) : key;
    if (bytes.byteLength !== KEY_BYTES)
      throw new GatewayError('config-invalid', `secret key "${id}" must be 32 bytes`);
    keys.set(id, bytes);
  }
  const activeKeyId = options.activeKeyId;
  const activeKey = keys.get(activeKeyId);
  if (!activeKey)
    throw new GatewayError('config-invalid', `the active secret key "${activeKeyId}" is not configured`);

  const parse = (envelope: string) => {
    const match = ENVELOPE_PATTERN.exec(envelope);
    if (!match)
      throw new GatewayError(
        'invalid-input',
        'not an encrypted secret (expected v1:<key>:<iv>:<tag>:<data>)',
      );
    const [, keyId = '', iv = '', tag = '', data = ''] = match;
    return {
      keyId,
      iv: Buffer.from(iv, 'base64url'),
      tag: Buffer.from(tag, 'base64url'),
      data: Buffer.from(data, 'base64url'),
    };
  };

  const encrypt = (plaintext: string): string => {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', activeKey, iv, { authTagLength: TAG_BYTES });
    // The version and key id are authenticated too: moving a ciphertext under another key id fails to decrypt.
    cipher.setAAD(Buffer.from(`${VERSION}:${activeKeyId}`));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      VERSION,
      activeKeyId,
      iv.toString('base64url'),
      tag.toString('base64url'),
      data.toString('base64url'),
    ].join(':');
  };

  const decrypt = (envelope: string): string => {
    const { keyId, iv, tag, data } = parse(envelope);
    const key = keys.get(keyId);
    if (!key) {
      throw new GatewayError(
        'config-invalid',
        `a secret was encrypted with key "${keyId}", which is not configured: set MCP_GATEWAY_SECRET_KEY to that key, ` +
          'or MCP_GATEWAY_SECRET_KEY_PREVIOUS while rotating to a new one (or add it to MCP_GATEWAY_SECRET_KEYS)',
      );
    }
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
      throw new GatewayError('invalid-input', 'secret could not be decrypted: the envelope is damaged');
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(`${VERSION}:${keyId}`));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new GatewayError(
        'invalid-input',
        'secret could not be decrypted: it was altered or the key is wrong',
        {
          cause: error,
        },
      );
    }
  };

  return {
    activeKeyId,
    encrypt,
    decrypt,
    rotate: (envelope) => (parse(envelope).keyId === activeKeyId ? envelope : encrypt(decrypt(envelope))),
    needsRotation: (envelope) => parse(envelope).keyId !== activeKeyId,
  };
}

/**
 * The key id of a key given without one: derived from the key (a truncated SHA-256, which reveals nothing usable about
 * it), so the same key always gets the same id and two different keys never share one.
 */
export function secretKeyId(key: Uint8Array | string): string {
  const bytes = typeof key === 'string' ? parseSecretKey(key) : key;
  return `k${createHash('sha256').update('mcp-gateway secret key\0').update(bytes).digest('base64url').slice(0, 16)}`;
}

/**
 * A {@link SecretBox} from the environment, or `undefined` when no key is set:
 * - `MCP_GATEWAY_SECRET_KEY`: the key (64 hex digits or base64 of 32 bytes); its id is derived from it
 *   ({@link secretKeyId});
 * - `MCP_GATEWAY_SECRET_KEY_PREVIOUS`: older keys, comma-separated, that only decrypt: set the new key as
 *   `MCP_GATEWAY_SECRET_KEY` and the old one here, run `mcp-gateway secrets rotate`, then drop this one;
 * - `MCP_GATEWAY_SECRET_KEYS=new:<key>,old:<key>`: keys with explicit ids; the first is active, the others decrypt
 *   only.
 * With `MCP_GATEWAY_SECRET_KEYS` and `MCP_GATEWAY_SECRET_KEY` both set, the list's first key is active.
 */
export function secretBoxFromEnv(env: Readonly<Record<string, string | undefined>>): SecretBox | undefined {
  const keys: Record<string, string> = {};
  let activeKeyId: string | undefined;
  for (const entry of (env.MCP_GATEWAY_SECRET_KEYS ?? '').split(',')) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const colon = trimmed.indexOf(':');
    if (colon <= 0) {
      throw new GatewayError(
        'config-invalid',
        'MCP_GATEWAY_SECRET_KEYS must look like kid1:<key>,kid2:<key>',
      );
    }
    const id = trimmed.slice(0, colon);
    if (id in keys)
      throw new GatewayError('config-invalid', `MCP_GATEWAY_SECRET_KEYS names key "${id}" twice`);
    keys[id] = trimmed.slice(colon + 1);
    activeKeyId ??= id;
  }
  const single = env.MCP_GATEWAY_SECRET_KEY?.trim();
  if (single !== undefined && single !== '') {
    const id = secretKeyId(parseSecretKey(single, 'MCP_GATEWAY_SECRET_KEY'));
    keys[id] = single;
    activeKeyId ??= id;
  }
  for (const previous of (env.MCP_GATEWAY_SECRET_KEY_PREVIOUS ?? '').split(',')) {
    const trimmed = previous.trim();
    if (trimmed === '') continue;
    const id = secretKeyId(parseSecretKey(trimmed, 'MCP_GATEWAY_SECRET_KEY_PREVIOUS'));
    keys[id] ??= trimmed;
  }
  if (activeKeyId === undefined) {
    if (Object.keys(keys).length > 0) {
      throw new GatewayError(
        'config-invalid',
        'MCP_GATEWAY_SECRET_KEY_PREVIOUS is set but MCP_GATEWAY_SECRET_KEY is not: set the new key there',
      );
    }
    return undefined;
  }
  return createSecretBox({ keys, activeKeyId });
}
