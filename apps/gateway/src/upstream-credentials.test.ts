import { randomBytes } from 'node:crypto';
import { isSecretEnvelope } from '@mcp-gateway/auth';
import { createDatabase, createGatewayStore } from '@mcp-gateway/registry';
import { startHttpFixture } from '@mcp-gateway/testing';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { createRegistrySecretCodec } from './secrets/registry-secret-codec.ts';
import { startGateway, type RunningGateway } from './start-gateway.ts';
import { capturedLogger, testConfig, waitForReadyUpstreams } from './test-support.ts';
import { secretBoxFromEnv } from '@mcp-gateway/auth';

const STORED_HEADER = 'stored-upstream-key-7f3a91';
const CLIENT_TOKEN = 'client-token-should-stay-here-51c2';
const CLIENT_COOKIE = 'session=client-cookie-should-stay-here-88d0';
const REST_TOKEN = 'rest-bearer-token-e44b';
const REST_SECRET = 'rest-client-secret-0c19';

/** An MCP client of the gateway that sends these headers with every request. */
async function clientWithHeaders(gateway: RunningGateway, headers: Record<string, string>) {
  const client = new Client({ name: 'header-test', version: '1.0.0' }, { capabilities: {} });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(gateway.mcpUrl), { requestInit: { headers } }),
  );
  return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() });
}

describe('upstream credentials', () => {
  it('forwards only allowlisted inbound headers, never the client’s credentials, and keeps secrets sealed and out of sight', async () => {
    const seen: Array<{ headers: Record<string, string>; body: string }> = [];
    await using upstream = await startHttpFixture({
      name: 'recorder',
      onRequest: (request) => {
        // Recorded without consuming the body the fixture still has to read.
        const headers = Object.fromEntries(request.headers);
        void request
          .clone()
          .text()
          .then((body) => seen.push({ headers, body }));
      },
    });
    const key = randomBytes(32).toString('base64');
    const { logger, lines } = capturedLogger();
    await using config = await testConfig();
    const gateway = await startGateway({ config, logger, env: { MCP_GATEWAY_SECRET_KEY: key } });
    try {
      const created = await fetch(`${gateway.url}/v1/gateways`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'recorder',
          transport: 'streamable-http',
          url: upstream.url,
          headers: { 'X-Upstream-Key': STORED_HEADER },
          passthroughHeaders: ['X-Tenant'],
        }),
      });
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: string };
      const tool = await fetch(`${gateway.url}/v1/tools`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          integration: 'rest',
          name: 'weather',
          method: 'GET',
          url: 'https://api.example/weather',
          auth: [
            { type: 'bearer', token: REST_TOKEN },
            {
              type: 'oauth2ClientCredentials',
              tokenUrl: 'https://auth.example/token',
              clientId: 'gateway',
              clientSecret: REST_SECRET,
            },
          ],
        }),
      });
      expect(tool.status).toBe(201);
      const { id: toolId } = (await tool.json()) as { id: string };
      await waitForReadyUpstreams(gateway, 1);

      await using acme = await clientWithHeaders(gateway, {
        authorization: `Bearer ${CLIENT_TOKEN}`,
        cookie: CLIENT_COOKIE,
        'x-tenant': 'acme',
        'x-not-listed': 'nope',
      });
      await using globex = await clientWithHeaders(gateway, { 'x-tenant': 'globex' });
      expect((await acme.callTool({ name: 'recorder__whoami', arguments: {} })).content).toEqual([
        { type: 'text', text: 'recorder' },
      ]);
      await globex.callTool({ name: 'recorder__whoami', arguments: {} });
      await acme.callTool({ name: 'recorder__whoami', arguments: {} });

      // Both clients share the gateway's one pooled session, yet each call carries its own client's tenant.
      const calls = seen.filter((request) => request.body.includes('"tools/call"'));
      expect(calls.map((request) => request.headers['x-tenant'])).toEqual(['acme', 'globex', 'acme']);
      expect(new Set(calls.map((request) => request.headers['mcp-session-id'])).size).toBe(1);
      for (const request of seen) {
        expect(request.headers).not.toHaveProperty('authorization');
        expect(request.headers).not.toHaveProperty('cookie');
        expect(request.headers).not.toHaveProperty('x-not-listed');
        // The stored credential is opened for the upstream, not sent as ciphertext.
        expect(request.headers['x-upstream-key']).toBe(STORED_HEADER);
      }

      // At rest: ciphertext in the rows, never the plain values.
      const row = await gateway.database.db
        .selectFrom('gateways')
        .select('headers')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(isSecretEnvelope(row.headers['X-Upstream-Key'] ?? '')).toBe(true);
      const toolRow = await gateway.database.db
        .selectFrom('tools')
        .select('integration_config')
        .where('id', '=', toolId)
        .executeTakeFirstOrThrow();
      const storedRows = JSON.stringify([row, toolRow]);
      for (const secret of [STORED_HEADER, REST_TOKEN, REST_SECRET]) expect(storedRows).not.toContain(secret);

      // In the API and the logs: neither the plain values nor the ciphertext.
      const ciphertexts = [row.headers['X-Upstream-Key'] ?? ''];
      const shown = [
        await (await fetch(`${gateway.url}/v1/gateways/${id}`)).text(),
        await (await fetch(`${gateway.url}/v1/gateways`)).text(),
        await (await fetch(`${gateway.url}/v1/tools/${toolId}`)).text(),
        await (await fetch(`${gateway.url}/v1/config`)).text(),
        await (await fetch(`${gateway.url}/v1/config?format=yaml`)).text(),
        await (await fetch(`${gateway.url}/v1/audit`)).text(),
        JSON.stringify(lines()),
      ];
      for (const text of shown) {
        for (const secret of [
          STORED_HEADER,
          REST_TOKEN,
          REST_SECRET,
          CLIENT_TOKEN,
          CLIENT_COOKIE,
          ...ciphertexts,
        ]) {
          expect(text).not.toContain(secret);
        }
        expect(text).not.toMatch(/v1:k[A-Za-z0-9_-]{16}:/);
      }
      // The audit entry of the create is there, its header value masked.
      expect(shown[5]).toContain('"X-Upstream-Key":"********"');
      expect(JSON.parse(shown[0] ?? '{}')).toMatchObject({
        headers: { 'X-Upstream-Key': '********' },
        passthroughHeaders: ['X-Tenant'],
      });

      // A masked export sent back keeps the stored secrets, still sealed.
      const exported = await (await fetch(`${gateway.url}/v1/config`)).text();
      const reimported = await fetch(`${gateway.url}/v1/config?mode=replace`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: exported,
      });
      expect(await reimported.json()).toMatchObject({ created: 0, deleted: 0 });
      expect((await gateway.store.get(id))?.headers).toEqual({ 'X-Upstream-Key': STORED_HEADER });
      const after = await gateway.database.db
        .selectFrom('gateways')
        .select('headers')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(isSecretEnvelope(after.headers['X-Upstream-Key'] ?? '')).toBe(true);
    } finally {
      await gateway.close();
    }
  });

  it('refuses credentials in passthroughHeaders with a clear message', async () => {
    await using config = await testConfig();
    await using gateway = await startGateway({ config });
    const response = await fetch(`${gateway.url}/v1/gateways`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'api',
        transport: 'streamable-http',
        url: 'http://127.0.0.1:1/mcp',
        passthroughHeaders: ['x-tenant', 'Authorization', 'Cookie', 'Mcp-Session-Id'],
      }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { details: unknown } };
    expect(body.error.details).toEqual([
      {
        path: 'passthroughHeaders.1',
        message: `"Authorization" carries the client's credentials and is never forwarded; set the upstream's own credentials in "headers"`,
      },
      {
        path: 'passthroughHeaders.2',
        message: `"Cookie" carries the client's credentials and is never forwarded; set the upstream's own credentials in "headers"`,
      },
      {
        path: 'passthroughHeaders.3',
        message: `"Mcp-Session-Id" belongs to the gateway's own connection and is never forwarded`,
      },
    ]);
  });

  it('warns once at start without a key, and refuses to start on a secret sealed with a key it does not have', async () => {
    await using config = await testConfig();
    const database = await createDatabase({ dataDir: config.dataDir });
    const box = secretBoxFromEnv({ MCP_GATEWAY_SECRET_KEY: randomBytes(32).toString('base64') });
    await createGatewayStore({ db: database.db, secrets: createRegistrySecretCodec(box) }).create({
      name: 'sealed',
      transport: 'streamable-http',
      url: 'http://127.0.0.1:1/mcp',
      headers: { 'x-api-key': 'sealed-secret' },
      enabled: false,
    });
    await database.close();

    const { logger, lines } = capturedLogger();
    await expect(startGateway({ config, logger, env: {} })).rejects.toThrow(
      /encrypted upstream secrets, but MCP_GATEWAY_SECRET_KEY is not set/,
    );
    expect(lines().filter((line) => String(line.msg).includes('stored unencrypted'))).toHaveLength(1);
    await expect(
      startGateway({ config, env: { MCP_GATEWAY_SECRET_KEY: randomBytes(32).toString('base64') } }),
    ).rejects.toThrow(/which is not configured: set MCP_GATEWAY_SECRET_KEY to that key/);
  });
});
