import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { maskSecrets, SECRET_MASK } from './mask-secrets.ts';
import { createSecretBox, isSecretEnvelope, secretBoxFromEnv, secretKeyId } from './secret-box.ts';
import { stripInboundCredentials } from './strip-inbound-credentials.ts';

const OLD_KEY = randomBytes(32);
const NEW_KEY = randomBytes(32);

describe('secret box', () => {
  it('round-trips a secret inside a v1 envelope that names its key', () => {
    const box = createSecretBox({ keys: { k1: OLD_KEY }, activeKeyId: 'k1' });
    const envelope = box.encrypt('upstream-api-key-123 ünïcødé');
    expect(envelope).toMatch(/^v1:k1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$/);
    expect(isSecretEnvelope(envelope)).toBe(true);
    expect(envelope).not.toContain('upstream-api-key');
    expect(box.decrypt(envelope)).toBe('upstream-api-key-123 ünïcødé');
    expect(box.encrypt('same')).not.toBe(box.encrypt('same')); // fresh IV every time
  });

  it('rotates: old envelopes still decrypt, rotate re-encrypts under the active key', () => {
    const before = createSecretBox({ keys: { k1: OLD_KEY }, activeKeyId: 'k1' });
    const stored = before.encrypt('s3cret');
    const during = createSecretBox({ keys: { k1: OLD_KEY, k2: NEW_KEY }, activeKeyId: 'k2' });
    expect(during.decrypt(stored)).toBe('s3cret');
    expect(during.needsRotation(stored)).toBe(true);
    const rotated = during.rotate(stored);
    expect(rotated.startsWith('v1:k2:')).toBe(true);
    expect(during.needsRotation(rotated)).toBe(false);
    expect(during.rotate(rotated)).toBe(rotated);
    const after = createSecretBox({ keys: { k2: NEW_KEY }, activeKeyId: 'k2' });
    expect(after.decrypt(rotated)).toBe('s3cret');
    expect(() => after.decrypt(stored)).toThrow(/key "k1", which is not configured/);
  });

  it('detects tampering with the ciphertext, the tag, the IV or the key id', () => {
    const box = createSecretBox({ keys: { k1: OLD_KEY, k2: OLD_KEY }, activeKeyId: 'k1' });
    const envelope = box.encrypt('s3cret');
    const parts = envelope.split(':');
    const flip = (text: string) => {
      const bytes = Buffer.from(text, 'base64url');
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      return bytes.toString('base64url');
    };
    for (const index of [2, 3, 4]) {
      const tampered = parts.map((part, i) => (i === index ? flip(part) : part)).join(':');
      expect(() => box.decrypt(tampered)).toThrow(/altered or the key is wrong|damaged/);
    }
    // Same key bytes under another id: the key id is authenticated, so moving the envelope fails.
    const moved = ['v1', 'k2', ...parts.slice(2)].join(':');
    expect(() => box.decrypt(moved)).toThrow(/altered or the key is wrong/);
    expect(() => box.decrypt('not an envelope')).toThrow(/not an encrypted secret/);
  });

  it('reads keys from the environment: one key, or several with the first active', () => {
    expect(secretBoxFromEnv({})).toBeUndefined();
    const single = secretBoxFromEnv({ MCP_GATEWAY_SECRET_KEY: OLD_KEY.toString('base64') });
    // The id is derived from the key: the same key written as hex gets the same one, another key another one.
    expect(single?.activeKeyId).toBe(secretKeyId(OLD_KEY));
    expect(single?.activeKeyId).toMatch(/^k[A-Za-z0-9_-]{16}$/);
    expect(secretKeyId(OLD_KEY.toString('hex'))).toBe(secretKeyId(OLD_KEY));
    expect(secretKeyId(NEW_KEY)).not.toBe(secretKeyId(OLD_KEY));
    const stored = single?.encrypt('x') ?? '';
    const hex = secretBoxFromEnv({
      MCP_GATEWAY_SECRET_KEYS: `new:${NEW_KEY.toString('hex')},old:${OLD_KEY.toString('base64url')}`,
    });
    expect(hex?.activeKeyId).toBe('new');
    expect(() => hex?.decrypt(stored)).toThrow(/MCP_GATEWAY_SECRET_KEY_PREVIOUS/);
    expect(() => secretBoxFromEnv({ MCP_GATEWAY_SECRET_KEY: 'too-short' })).toThrow(/must be 32 bytes/);
    expect(() => secretBoxFromEnv({ MCP_GATEWAY_SECRET_KEYS: 'nokey' })).toThrow(/kid1:<key>/);
  });

  it('rotates with MCP_GATEWAY_SECRET_KEY (new) and MCP_GATEWAY_SECRET_KEY_PREVIOUS (old)', () => {
    const before = secretBoxFromEnv({ MCP_GATEWAY_SECRET_KEY: OLD_KEY.toString('base64') });
    const stored = before?.encrypt('x') ?? '';
    const during = secretBoxFromEnv({
      MCP_GATEWAY_SECRET_KEY: NEW_KEY.toString('base64'),
      MCP_GATEWAY_SECRET_KEY_PREVIOUS: ` ${OLD_KEY.toString('hex')} `,
    });
    expect(during?.activeKeyId).toBe(secretKeyId(NEW_KEY));
    expect(during?.needsRotation(stored)).toBe(true);
    const rotated = during?.rotate(stored) ?? '';
    const after = secretBoxFromEnv({ MCP_GATEWAY_SECRET_KEY: NEW_KEY.toString('base64') });
    expect(after?.decrypt(rotated)).toBe('x');
    expect(() => after?.decrypt(stored)).toThrow(
      new RegExp(`key "${secretKeyId(OLD_KEY)}", which is not configured: set MCP_GATEWAY_SECRET_KEY`),
    );
    expect(() => secretBoxFromEnv({ MCP_GATEWAY_SECRET_KEY_PREVIOUS: OLD_KEY.toString('base64') })).toThrow(
      /MCP_GATEWAY_SECRET_KEY_PREVIOUS is set but MCP_GATEWAY_SECRET_KEY is not/,
    );
    expect(() =>
      secretBoxFromEnv({
        MCP_GATEWAY_SECRET_KEY: NEW_KEY.toString('base64'),
        MCP_GATEWAY_SECRET_KEY_PREVIOUS: 'x',
      }),
    ).toThrow(/MCP_GATEWAY_SECRET_KEY_PREVIOUS must be 32 bytes/);
  });
});

describe('maskSecrets', () => {
  it('leaves no secret in the masked output', () => {
    const box = createSecretBox({ keys: { k1: OLD_KEY }, activeKeyId: 'k1' });
    const secrets = {
      apiKey: 'sk-live-aaaaaaaaaaaaaaaa',
      headerToken: 'Bearer eyJhbGciOi.payload.sig',
      password: 'hunter2hunter2',
      clientSecret: 'client-secret-value',
      envelope: box.encrypt('inner'),
      apiToken: `mgw_${'A'.repeat(43)}`,
      jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl',
    };
    const gateway = {
      name: 'search',
      url: 'https://user:p4ssw0rd@api.example.com/v1',
      headers: { Authorization: 'Bearer upstream-token-value', 'X-Trace': 'abc' },
      env: { API_KEY: secrets.apiKey, GITHUB_TOKEN: secrets.apiToken, LOG_LEVEL: 'debug' },
      auth: {
        type: 'oauth',
        clientId: 'client-1',
        clientSecret: secrets.clientSecret,
        tokenUrl: 'https://idp/token',
      },
      stored: secrets.envelope,
      notes: [secrets.jwt, 'plain'],
      passwordHash: 'scrypt$...',
      tokenId: 'tok-1',
      emptySecret: '',
    };
    const masked = maskSecrets(gateway);
    const text = JSON.stringify(masked);
    for (const value of [...Object.values(secrets), 'p4ssw0rd', 'upstream-token-value', 'scrypt$']) {
      expect(text).not.toContain(value);
    }
    expect(masked.url).toBe(`https://user:${SECRET_MASK}@api.example.com/v1`);
    expect(masked.headers).toEqual({ Authorization: SECRET_MASK, 'X-Trace': 'abc' });
    expect(masked.env.LOG_LEVEL).toBe('debug');
    expect(masked.auth).toMatchObject({ clientId: 'client-1', tokenUrl: 'https://idp/token' });
    expect(masked.tokenId).toBe('tok-1');
    expect(masked.emptySecret).toBe('');
    expect(masked.notes).toEqual([SECRET_MASK, 'plain']);
    // The input is left untouched.
    expect(gateway.headers.Authorization).toBe('Bearer upstream-token-value');
  });
});

describe('stripInboundCredentials', () => {
  const inbound = new Headers({
    authorization: 'Bearer client-token',
    cookie: 'session=abc',
    'proxy-authorization': 'Basic xyz',
    'x-tenant-id': 't1',
    'x-tenant-region': 'eu',
    'user-agent': 'agent/1.0',
    'mcp-session-id': 's-1',
  });

  it('keeps only allowlisted headers and never passes Authorization or Cookie through a wildcard', () => {
    const out = stripInboundCredentials(inbound, ['x-tenant-*', 'User-Agent', '*']);
    expect(out.get('x-tenant-id')).toBe('t1');
    expect(out.get('user-agent')).toBe('agent/1.0');
    expect(out.has('authorization')).toBe(false);
    expect(out.has('cookie')).toBe(false);
    expect(out.has('proxy-authorization')).toBe(false);
    expect([...stripInboundCredentials(inbound, []).keys()]).toEqual([]);
    const plain = stripInboundCredentials(
      { Authorization: 'Bearer t', Cookie: ['a=1', 'b=2'], 'X-Trace': 'abc' },
      ['x-trace', 'authoriz*'],
    );
    expect([...plain.entries()]).toEqual([['x-trace', 'abc']]);
  });

  it('passes a credential header only when named exactly', () => {
    const out = stripInboundCredentials(inbound, ['Authorization']);
    expect(out.get('authorization')).toBe('Bearer client-token');
    expect(out.has('cookie')).toBe(false);
  });
});
