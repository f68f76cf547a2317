import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { startGateway, type RunningGateway } from './start-gateway.ts';
import { connectClient, testConfig, waitFor } from './test-support.ts';

type ToolResult = {
  content: Array<{ type: string; text?: string }>;
  isError?: boolean;
  structuredContent?: unknown;
};

/** A small pet API on loopback; it counts requests so a blocked call can be shown to make none. */
async function startPetApi(): Promise<{ url: string; requests: string[]; server: Server }> {
  const requests: string[] = [];
  const pets = new Map([[1, { id: 1, name: 'Rex', status: 'available' }]]);
  const server = createServer((req: IncomingMessage, res) => {
    requests.push(`${req.method} ${req.url}`);
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const match = /^\/api\/v3\/pet\/(\d+)$/.exec(url.pathname);
      if (req.method === 'GET' && match) {
        const pet = pets.get(Number(match[1]));
        res.writeHead(pet ? 200 : 404, { 'content-type': 'application/json' });
        res.end(JSON.stringify(pet ?? { message: 'Pet not found' }));
        return;
      }
      if (req.method === 'POST' && url.pathname === '/api/v3/pet') {
        const pet = JSON.parse(body) as { id: number; name: string };
        pets.set(pet.id, { status: 'available', ...pet });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(pets.get(pet.id)));
        return;
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

describe('REST, OpenAPI and command tools through the gateway', () => {
  let api: Awaited<ReturnType<typeof startPetApi>>;
  let gateway: RunningGateway;
  let client: Client;
  let config: Awaited<ReturnType<typeof testConfig>>;
  const post = (path: string, body: unknown) =>
    fetch(`${gateway.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    api = await startPetApi();
    config = await testConfig();
    const port = new URL(api.url).port;
    // Only this loopback port is allowlisted; every other private or loopback destination stays blocked.
    gateway = await startGateway({ config, env: { MCP_GATEWAY_OUTBOUND_ALLOW: `127.0.0.1:${port}` } });
    client = await connectClient(gateway);
  });

  afterAll(async () => {
    await client?.close();
    await gateway?.close();
    await new Promise((resolve) => api?.server.close(resolve));
    await config?.[Symbol.asyncDispose]();
  });

  it('defines a REST tool with POST /v1/tools and calls it with the SDK client, arguments validated first', async () => {
    const created = await post('/v1/tools', {
      integration: 'rest',
      name: 'get_pet',
      description: 'Find a pet by id.',
      method: 'GET',
      url: `${api.url}/api/v3/pet/{petId}`,
      inputSchema: { type: 'object', properties: { petId: { type: 'integer' } }, required: ['petId'] },
    });
    expect(created.status).toBe(201);
    await waitFor('get_pet in tools/list', async () =>
      (await client.listTools()).tools.some((t) => t.name === 'get_pet') ? true : undefined,
    );
    const result = (await client.callTool({ name: 'get_pet', arguments: { petId: 1 } })) as ToolResult;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ id: 1, name: 'Rex', status: 'available' });

    const before = api.requests.length;
    const invalid = (await client.callTool({ name: 'get_pet', arguments: { petId: 'one' } })) as ToolResult;
    expect(invalid.isError).toBe(true);
    expect(invalid.content[0]?.text).toContain('petId');
    expect(api.requests.length).toBe(before);
  });

  it('blocks a tool aimed at the cloud metadata address without making a connection', async () => {
    const created = await post('/v1/tools', {
      integration: 'rest',
      name: 'steal_credentials',
      method: 'GET',
      url: 'http://169.254.169.254/latest/meta-data/',
    });
    expect(created.status).toBe(201);
    await waitFor('steal_credentials in tools/list', async () =>
      (await client.listTools()).tools.some((t) => t.name === 'steal_credentials') ? true : undefined,
    );
    const result = (await client.callTool({ name: 'steal_credentials', arguments: {} })) as ToolResult;
    expect(result.isError).toBe(true);
    expect(result.content.map((c) => c.text).join('')).toMatch(/169\.254\.169\.254|blocked|not allowed/i);
  });

  it('refuses a tool whose input schema is not valid JSON Schema with 422 pointing at the field', async () => {
    const response = await post('/v1/tools', {
      integration: 'rest',
      name: 'broken',
      method: 'GET',
      url: `${api.url}/x`,
      inputSchema: { type: 'object', properties: { a: { type: 'no-such-type' } } },
    });
    expect(response.status).toBe(422);
    const body = (await response.json()) as { error: { details: Array<{ path: string }> } };
    expect(body.error.details[0]?.path).toContain('inputSchema');
  });

  it('imports the Petstore OpenAPI spec as tools, calls one, and reports what a re-import changed', async () => {
    const spec = await readFile(
      fileURLToPath(
        new URL('../../../packages/adapter-rest/test-data/petstore-openapi-3.0.yaml', import.meta.url),
      ),
      'utf8',
    );
    const first = await post('/v1/openapi/import', {
      source: 'petstore',
      spec,
      baseUrl: `${api.url}/api/v3`,
    });
    expect(first.status).toBe(200);
    const report = (await first.json()) as { added: string[]; warnings: string[] };
    expect(report.added).toEqual(expect.arrayContaining(['getPetById', 'addPet']));
    await waitFor('getPetById in tools/list', async () =>
      (await client.listTools()).tools.some((t) => t.name === 'getPetById') ? true : undefined,
    );
    const added = (await client.callTool({
      name: 'addPet',
      arguments: { id: 7, name: 'Nova', photoUrls: [] },
    })) as ToolResult;
    expect(added.isError).toBeFalsy();
    const fetched = (await client.callTool({ name: 'getPetById', arguments: { petId: 7 } })) as ToolResult;
    expect(fetched.structuredContent).toMatchObject({ id: 7, name: 'Nova' });

    const again = await post('/v1/openapi/import', {
      source: 'petstore',
      spec,
      baseUrl: `${api.url}/api/v3`,
      include: { tags: ['pet'] },
    });
    const second = (await again.json()) as { added: string[]; removed: string[]; unchanged: string[] };
    expect(second.added).toEqual([]);
    expect(second.removed.length).toBeGreaterThan(0);
    expect(second.unchanged).toContain('getPetById');
  });

  it('runs a command tool with its argv template, never through a shell', async () => {
    const created = await post('/v1/tools', {
      integration: 'command',
      name: 'node_echo',
      command: [process.execPath, '-e', 'process.stdout.write(process.argv[1])', '{text}'],
      inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
    });
    expect(created.status).toBe(201);
    await waitFor('node_echo in tools/list', async () =>
      (await client.listTools()).tools.some((t) => t.name === 'node_echo') ? true : undefined,
    );
    const result = (await client.callTool({
      name: 'node_echo',
      arguments: { text: '$(touch /tmp/pwned); `id`' },
    })) as ToolResult;
    expect(result.content[0]?.text).toBe('$(touch /tmp/pwned); `id`');
  });
});
