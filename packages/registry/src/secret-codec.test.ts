import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from './database.ts';
import { exportRegistry } from './export-registry.ts';
import { createGatewayStore } from './gateway-store.ts';
import { importRegistry } from './import-registry.ts';
import { loadRegistry } from './load-registry.ts';
import { RegistryError } from './registry-error.ts';
import { resealSecrets } from './secret-codec.ts';
import type { SecretCodec } from './secret-codec.ts';
import { dialects, emptyRegistry, openTestDatabase } from './test-database.test-support.ts';
import { createToolStore } from './tool-store.ts';

/**
 * A real AES-256-GCM codec with key ids, shaped like the app's (`@mcp-gateway/auth` is not a dependency of the
 * registry): `sealed:<keyId>:<iv>:<tag>:<data>`.
 */
function testCodec(keys: Record<string, Buffer>, activeKeyId: string): SecretCodec {
  const pattern = /^sealed:([a-z0-9]+):([^:]+):([^:]+):([^:]*)$/;
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', keys[activeKeyId]!, iv);
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return ['sealed', activeKeyId, iv, cipher.getAuthTag(), data]
        .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
        .join(':');
    },
    open(stored) {
      const [, keyId = '', iv = '', tag = '', data = ''] = pattern.exec(stored) ?? [];
      const key = keys[keyId];
      if (key === undefined) throw new Error(`unknown key "${keyId}": set TEST_SECRET_KEY_PREVIOUS`);
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString();
    },
    isSealed: (stored) => pattern.test(stored),
    needsReseal: (stored) => pattern.exec(stored)?.[1] !== activeKeyId,
  };
}

const oldKey = randomBytes(32);
const newKey = randomBytes(32);

const restConfig = {
  name: 'weather',
  method: 'GET',
  url: 'https://api.example/weather',
  headers: { 'x-api-key': { value: 'key-in-header' }, 'x-city': { from: 'city' } },
  auth: [
    { type: 'bearer', token: 'bearer-token' },
    { type: 'basic', username: 'ann', password: 'basic-password' },
    { type: 'apiKey', in: 'query', name: 'k', value: 'query-key' },
    {
      type: 'oauth2ClientCredentials',
      tokenUrl: 'https://auth.example/token',
      clientId: 'client',
      clientSecret: 'client-secret',
    },
  ],
};
const commandConfig = {
  kind: 'command',
  name: 'deploy',
  command: ['deploy'],
  env: { DEPLOY_TOKEN: 'env-token' },
};
const PLAIN_SECRETS = [
  'Bearer gateway-token',
  'gateway-env-secret',
  'key-in-header',
  'bearer-token',
  'basic-password',
  'query-key',
  'client-secret',
  'env-token',
];

for (const dialect of dialects) {
  describe(`secrets at rest on ${dialect}`, () => {
    let database: Database;
    const codec = testCodec({ old: oldKey }, 'old');

    beforeAll(async () => {
      database = await openTestDatabase(dialect);
    });
    afterAll(() => database?.close());
    beforeEach(() => emptyRegistry(database));

    const rawRows = async () => ({
      gateways: await database.db.selectFrom('gateways').select(['name', 'headers', 'env']).execute(),
      tools: await database.db.selectFrom('tools').select(['original_name', 'integration_config']).execute(),
    });

    const populate = async (secrets?: SecretCodec) => {
      const gateways = createGatewayStore({ db: database.db, secrets });
      const tools = createToolStore({ db: database.db, secrets });
      const gateway = await gateways.create({
        name: 'github',
        transport: 'streamable-http',
        url: 'https://gh.example/mcp',
        headers: { authorization: 'Bearer gateway-token' },
        passthroughHeaders: ['x-tenant', 'x-trace-*'],
      });
      const stdio = await gateways.create({
        name: 'files',
        transport: 'stdio',
        command: 'mcp-files',
        env: { FILES_SECRET: 'gateway-env-secret' },
      });
      const rest = await tools.create({
        definition: { name: 'weather', inputSchema: { type: 'object' } },
        integration: 'rest',
        integrationConfig: restConfig,
      });
      const command = await tools.create({
        definition: { name: 'deploy', inputSchema: { type: 'object' } },
        integration: 'command',
        integrationConfig: commandConfig,
      });
      return { gateway, stdio, rest, command };
    };

    it('stores ciphertext and reads back the plain values', async () => {
      const created = await populate(codec);
      expect(created.gateway.headers).toEqual({ authorization: 'Bearer gateway-token' });
      expect(created.rest.integrationConfig).toEqual(restConfig);

      const rows = JSON.stringify(await rawRows());
      for (const secret of PLAIN_SECRETS) expect(rows).not.toContain(secret);
      const { gateways, tools } = await rawRows();
      const github = gateways.find((row) => row.name === 'github');
      expect(codec.isSealed(github?.headers.authorization ?? '')).toBe(true);
      const weather = tools.find((row) => row.original_name === 'weather')?.integration_config as
        typeof restConfig | undefined;
      // Only the credentials are sealed: the rest of the definition stays readable.
      expect(weather?.url).toBe('https://api.example/weather');
      expect(weather?.headers['x-city']).toEqual({ from: 'city' });
      expect(weather?.auth[1]).toMatchObject({ type: 'basic', username: 'ann' });
      expect(codec.isSealed((weather?.auth[1] as { password: string }).password)).toBe(true);

      const gatewayStore = createGatewayStore({ db: database.db, secrets: codec });
      const toolStore = createToolStore({ db: database.db, secrets: codec });
      expect(await gatewayStore.get(created.gateway.id)).toEqual(created.gateway);
      expect((await gatewayStore.list()).map((g) => g.env)).toEqual([
        { FILES_SECRET: 'gateway-env-secret' },
        {},
      ]);
      expect((await toolStore.get(created.command.id))?.integrationConfig).toEqual(commandConfig);
      expect((await toolStore.list()).items.map((t) => t.integrationConfig)).toEqual([
        restConfig,
        commandConfig,
      ]);

      const loaded = await loadRegistry(database.db, { secrets: codec });
      expect(loaded.gateways.find((g) => g.name === 'github')?.headers).toEqual({
        authorization: 'Bearer gateway-token',
      });
      expect(loaded.gateways.find((g) => g.name === 'github')?.passthroughHeaders).toEqual([
        'x-tenant',
        'x-trace-*',
      ]);
      expect(loaded.tools.find((t) => t.originalName === 'weather')?.integrationConfig).toEqual(restConfig);
    });

    it('seals on update, and reads values stored in plain before a key was configured', async () => {
      const created = await populate(); // no codec: stored as today
      expect(JSON.stringify(await rawRows())).toContain('gateway-token');
      const gateways = createGatewayStore({ db: database.db, secrets: codec });
      expect((await gateways.get(created.gateway.id))?.headers).toEqual({
        authorization: 'Bearer gateway-token',
      });
      const updated = await gateways.update(created.gateway.id, {
        headers: { authorization: 'Bearer rotated-token' },
      });
      expect(updated?.headers).toEqual({ authorization: 'Bearer rotated-token' });
      const row = await database.db
        .selectFrom('gateways')
        .select('headers')
        .where('id', '=', created.gateway.id)
        .executeTakeFirstOrThrow();
      expect(codec.isSealed(row.headers.authorization ?? '')).toBe(true);
      expect(JSON.stringify(row)).not.toContain('rotated-token');

      const tools = createToolStore({ db: database.db, secrets: codec });
      await tools.update(created.rest.id, { integrationConfig: restConfig });
      const toolRow = await database.db
        .selectFrom('tools')
        .select('integration_config')
        .where('id', '=', created.rest.id)
        .executeTakeFirstOrThrow();
      expect(JSON.stringify(toolRow)).not.toContain('bearer-token');
      expect((await tools.get(created.rest.id))?.integrationConfig).toEqual(restConfig);
    });

    it('exports plain values, imports sealed ones, and finds an unchanged document unchanged', async () => {
      await populate(codec);
      const document = await exportRegistry(database.db, { secrets: codec });
      expect(document.gateways.find((g) => g.name === 'github')).toMatchObject({
        headers: { authorization: 'Bearer gateway-token' },
        passthroughHeaders: ['x-tenant', 'x-trace-*'],
      });
      expect(await importRegistry(database.db, document, { mode: 'replace', secrets: codec })).toEqual({
        created: 0,
        updated: 0,
        deleted: 0,
        unchanged: 4,
      });

      await emptyRegistry(database);
      expect(await importRegistry(database.db, document, { mode: 'merge', secrets: codec })).toMatchObject({
        created: 4,
      });
      const rows = JSON.stringify(await rawRows());
      for (const secret of PLAIN_SECRETS) expect(rows).not.toContain(secret);
      expect(await exportRegistry(database.db, { secrets: codec })).toEqual(document);
    });

    it('refuses a sealed value whose key is not configured, with the codec’s message', async () => {
      const created = await populate(codec);
      const stranger = testCodec({ other: newKey }, 'other');
      await expect(loadRegistry(database.db, { secrets: stranger })).rejects.toThrow(
        /unknown key "old": set TEST_SECRET_KEY_PREVIOUS/,
      );
      await expect(
        createGatewayStore({ db: database.db, secrets: stranger }).get(created.gateway.id),
      ).rejects.toThrow(/unknown key "old"/);
    });

    it('reseals every stored secret under the new key in one pass, and counts them', async () => {
      await populate(); // plain
      expect(await resealSecrets(database.db, { secrets: codec })).toEqual({
        resealed: 0,
        sealed: 8,
        unchanged: 0,
      });
      const afterFirst = JSON.stringify(await rawRows());
      for (const secret of PLAIN_SECRETS) expect(afterFirst).not.toContain(secret);

      const rotated = testCodec({ old: oldKey, new: newKey }, 'new');
      expect(await resealSecrets(database.db, { secrets: rotated })).toEqual({
        resealed: 8,
        sealed: 0,
        unchanged: 0,
      });
      expect(await resealSecrets(database.db, { secrets: rotated })).toEqual({
        resealed: 0,
        sealed: 0,
        unchanged: 8,
      });

      // The old key is no longer needed.
      const newOnly = testCodec({ new: newKey }, 'new');
      const loaded = await loadRegistry(database.db, { secrets: newOnly });
      expect(loaded.gateways.map((g) => [g.name, g.headers, g.env])).toEqual([
        ['files', {}, { FILES_SECRET: 'gateway-env-secret' }],
        ['github', { authorization: 'Bearer gateway-token' }, {}],
      ]);
      // Rows come back in no particular order: compare by tool name.
      const byName = (a: unknown, b: unknown) =>
        String((a as { name?: unknown }).name).localeCompare(String((b as { name?: unknown }).name));
      const configs = loaded.tools.map((t) => t.integrationConfig).sort(byName);
      expect(configs).toEqual([commandConfig, restConfig]);
      await expect(loadRegistry(database.db, { secrets: codec })).rejects.toThrow(/unknown key "new"/);
    });

    it('rolls the whole rotation back when one value cannot be opened', async () => {
      await populate(codec);
      const before = JSON.stringify(await rawRows());
      // Knows the new key only: the first old value fails, nothing is written.
      const broken = testCodec({ new: newKey }, 'new');
      await expect(resealSecrets(database.db, { secrets: broken })).rejects.toThrow(/unknown key "old"/);
      expect(JSON.stringify(await rawRows())).toBe(before);
    });

    it('validates passthroughHeaders in documents: credentials and the session header are refused', async () => {
      const attempt = importRegistry(
        database.db,
        {
          version: 1,
          gateways: [
            {
              name: 'api',
              transport: 'streamable-http',
              url: 'https://api.example/mcp',
              passthroughHeaders: ['X-Tenant', 'Authorization', 'cookie', 'Mcp-Session-Id', 'bad header'],
            },
            { name: 'local', transport: 'stdio', command: 'x', passthroughHeaders: ['x-tenant'] },
          ],
        },
        { mode: 'merge' },
      );
      await expect(attempt).rejects.toBeInstanceOf(RegistryError);
      const error = (await attempt.catch((caught: unknown) => caught)) as RegistryError;
      expect(error.details).toEqual([
        {
          path: 'gateways.0.passthroughHeaders.1',
          message: `"Authorization" carries the client's credentials and is never forwarded; set the upstream's own credentials in "headers"`,
        },
        {
          path: 'gateways.0.passthroughHeaders.2',
          message: `"cookie" carries the client's credentials and is never forwarded; set the upstream's own credentials in "headers"`,
        },
        {
          path: 'gateways.0.passthroughHeaders.3',
          message: `"Mcp-Session-Id" belongs to the gateway's own connection and is never forwarded`,
        },
        {
          path: 'gateways.0.passthroughHeaders.4',
          message: `"bad header" is not a header name (a name, or a prefix ending in "*" such as "x-tenant-*")`,
        },
        { path: 'gateways.1.passthroughHeaders', message: 'is not allowed when transport is "stdio"' },
      ]);
    });
  });
}
