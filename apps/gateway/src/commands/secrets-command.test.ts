import { randomBytes } from 'node:crypto';
import { isSecretEnvelope, secretBoxFromEnv } from '@mcp-gateway/auth';
import { createDatabase, createGatewayStore, createToolStore, loadRegistry } from '@mcp-gateway/registry';
import { describe, expect, it } from 'vitest';
import { createRegistrySecretCodec } from '../secrets/registry-secret-codec.ts';
import { testConfig } from '../test-support.ts';
import { runSecretsCommand } from './secrets-command.ts';

const OLD_KEY = randomBytes(32).toString('base64');
const NEW_KEY = randomBytes(32).toString('hex');

function output() {
  const chunks: string[] = [];
  return { stream: { write: (text: string) => chunks.push(text) }, text: () => chunks.join('') };
}

const codecFor = (env: Record<string, string>) => createRegistrySecretCodec(secretBoxFromEnv(env));

describe('mcp-gateway secrets rotate', () => {
  it('re-encrypts every stored secret with the new key, then the old key is no longer needed', async () => {
    await using config = await testConfig();
    const database = await createDatabase({ dataDir: config.dataDir });
    try {
      const oldCodec = codecFor({ MCP_GATEWAY_SECRET_KEY: OLD_KEY });
      await createGatewayStore({ db: database.db, secrets: oldCodec }).create({
        name: 'github',
        transport: 'streamable-http',
        url: 'https://gh.example/mcp',
        headers: { authorization: 'Bearer gh-token', 'x-org': 'acme' },
      });
      // Written before a key was configured: in plain.
      await createGatewayStore({ db: database.db }).create({
        name: 'files',
        transport: 'stdio',
        command: 'mcp-files',
        env: { FILES_TOKEN: 'files-token' },
      });
      await createToolStore({ db: database.db, secrets: oldCodec }).create({
        definition: { name: 'weather', inputSchema: { type: 'object' } },
        integration: 'rest',
        integrationConfig: {
          name: 'weather',
          method: 'GET',
          url: 'https://api.example/weather',
          auth: { type: 'bearer', token: 'rest-token' },
        },
      });
    } finally {
      await database.close();
    }

    const rotateEnv = { MCP_GATEWAY_SECRET_KEY: NEW_KEY, MCP_GATEWAY_SECRET_KEY_PREVIOUS: OLD_KEY };
    const out = output();
    expect(await runSecretsCommand(['rotate', '--data-dir', config.dataDir], rotateEnv, out.stream)).toBe(0);
    const newKeyId = secretBoxFromEnv({ MCP_GATEWAY_SECRET_KEY: NEW_KEY })?.activeKeyId ?? '';
    expect(out.text()).toBe(
      `re-encrypted 4 secret values with key "${newKeyId}" (3 from an older key, 1 stored unencrypted); 0 already used it\n`,
    );

    const again = output();
    await runSecretsCommand(['rotate', '--data-dir', config.dataDir], rotateEnv, again.stream);
    expect(again.text()).toMatch(/^re-encrypted 0 secret values .*; 4 already used it\n$/);

    const reopened = await createDatabase({ dataDir: config.dataDir });
    try {
      const rows = await reopened.db
        .selectFrom('gateways')
        .select(['name', 'headers', 'env'])
        .orderBy('name')
        .execute();
      expect(isSecretEnvelope(rows[0]?.env.FILES_TOKEN ?? '')).toBe(true);
      expect(rows[1]?.headers.authorization).toMatch(new RegExp(`^v1:${newKeyId}:`));
      const contents = await loadRegistry(reopened.db, {
        secrets: codecFor({ MCP_GATEWAY_SECRET_KEY: NEW_KEY }),
      });
      expect(contents.gateways.map((g) => [g.name, g.headers, g.env])).toEqual([
        ['files', {}, { FILES_TOKEN: 'files-token' }],
        ['github', { authorization: 'Bearer gh-token', 'x-org': 'acme' }, {}],
      ]);
      expect(contents.tools[0]?.integrationConfig?.auth).toEqual({ type: 'bearer', token: 'rest-token' });
      await expect(
        loadRegistry(reopened.db, { secrets: codecFor({ MCP_GATEWAY_SECRET_KEY: OLD_KEY }) }),
      ).rejects.toThrow(/which is not configured: set MCP_GATEWAY_SECRET_KEY to that key/);
    } finally {
      await reopened.close();
    }
  });

  it('needs the new key, and names the variables', async () => {
    await using config = await testConfig();
    await expect(
      runSecretsCommand(['rotate', '--data-dir', config.dataDir], {}, output().stream),
    ).rejects.toThrow(
      /secrets rotate needs the new key in MCP_GATEWAY_SECRET_KEY \(and the old one in MCP_GATEWAY_SECRET_KEY_PREVIOUS\)/,
    );
    await expect(
      runSecretsCommand(['shred'], { MCP_GATEWAY_SECRET_KEY: NEW_KEY }, output().stream),
    ).rejects.toThrow(/unknown command "shred" \(expected: rotate\)/);
    const help = output();
    expect(await runSecretsCommand(['--help'], {}, help.stream)).toBe(0);
    expect(help.text()).toContain('MCP_GATEWAY_SECRET_KEY_PREVIOUS');
  });
});
