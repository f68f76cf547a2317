import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { callTool, disposableUpstream, startApiServer, textOf } from './api-server.test-support.ts';
import { diffToolSets, importOpenApi } from './openapi-import.ts';
import type { RestToolDefinition } from './tool-definition.ts';

const testData = new URL('../test-data/', import.meta.url);
const petstoreYaml = readFileSync(new URL('petstore-openapi-3.0.yaml', testData), 'utf8');
const byName = (tools: RestToolDefinition[]) => new Map(tools.map((tool) => [tool.name, tool]));

describe('importOpenApi: the Petstore (OpenAPI 3.0, YAML)', () => {
  const { tools, warnings } = importOpenApi(petstoreYaml, {
    baseUrl: 'https://petstore.example/api/v3',
    auth: { api_key: { value: 'special-key' } },
  });
  const tool = byName(tools);

  it('turns every callable operation into a tool named after its operationId', () => {
    expect(tools.map((entry) => entry.name)).toEqual([
      'updatePet',
      'addPet',
      'findPetsByStatus',
      'findPetsByTags',
      'getPetById',
      'updatePetWithForm',
      'deletePet',
      'getInventory',
      'placeOrder',
      'getOrderById',
      'deleteOrder',
      'createUser',
      'createUsersWithListInput',
      'loginUser',
      'logoutUser',
      'getUserByName',
      'updateUser',
      'deleteUser',
    ]);
    expect(warnings).toEqual([
      'no credentials for security scheme "petstore_auth"; its operations are imported without auth',
      'POST /pet/{petId}/uploadImage: request body type application/octet-stream is not supported; operation skipped',
    ]);
  });

  it('maps parameters, auth and the response of getPetById', () => {
    expect(tool.get('getPetById')).toEqual({
      name: 'getPetById',
      title: 'Find pet by ID.',
      description: 'Find pet by ID.\n\nReturns a single pet.',
      method: 'GET',
      url: 'https://petstore.example/api/v3/pet/{petId}',
      inputSchema: {
        type: 'object',
        properties: { petId: { type: 'integer', format: 'int64', description: 'ID of pet to return' } },
        required: ['petId'],
        additionalProperties: false,
      },
      outputSchema: {
        type: 'object',
        required: ['name', 'photoUrls'],
        properties: {
          id: { type: 'integer', format: 'int64', examples: [10] },
          name: { type: 'string', examples: ['doggie'] },
          category: {
            type: 'object',
            properties: {
              id: { type: 'integer', format: 'int64', examples: [1] },
              name: { type: 'string', examples: ['Dogs'] },
            },
          },
          photoUrls: { type: 'array', items: { type: 'string' } },
          tags: {
            type: 'array',
            items: {
              type: 'object',
              properties: { id: { type: 'integer', format: 'int64' }, name: { type: 'string' } },
            },
          },
          status: {
            type: 'string',
            description: 'pet status in the store',
            enum: ['available', 'pending', 'sold'],
          },
        },
      },
      auth: { type: 'apiKey', in: 'header', name: 'api_key', value: 'special-key' },
    });
  });

  it('flattens an object body into arguments, and keeps an array body under "body"', () => {
    const addPet = tool.get('addPet');
    expect(addPet?.inputSchema?.required).toEqual(['name', 'photoUrls']);
    expect(Object.keys(addPet?.inputSchema?.properties as object)).toEqual([
      'id',
      'name',
      'category',
      'photoUrls',
      'tags',
      'status',
    ]);
    expect(addPet?.body).toEqual({
      fields: {
        id: { from: 'id' },
        name: { from: 'name' },
        category: { from: 'category' },
        photoUrls: { from: 'photoUrls' },
        tags: { from: 'tags' },
        status: { from: 'status' },
      },
      encoding: 'json',
    });
    expect(tool.get('createUsersWithListInput')?.body).toEqual({ from: 'body', encoding: 'json' });
    expect(tool.get('createUsersWithListInput')?.inputSchema?.properties).toMatchObject({
      body: { type: 'array', items: { type: 'object' } },
    });
    expect(tool.get('deletePet')?.headers).toEqual({ api_key: { from: 'api_key' } });
    expect(tool.get('updatePetWithForm')?.query).toEqual({
      name: { from: 'name' },
      status: { from: 'status' },
    });
  });

  it('resolves every $ref and drops OpenAPI-only keywords', () => {
    const json = JSON.stringify(tools);
    expect(json).not.toContain('$ref');
    expect(json).not.toContain('x-swagger-router-model');
    expect(json).not.toContain('"xml"');
    expect(json).not.toContain('"example"');
  });

  it('selects operations by tag, path and operation, and needs a base URL for a relative server', () => {
    const names = (options: Parameters<typeof importOpenApi>[1]) =>
      importOpenApi(petstoreYaml, { baseUrl: 'https://p.example', ...options }).tools.map(
        (entry) => entry.name,
      );
    expect(names({ include: { tags: ['store'] } })).toEqual([
      'getInventory',
      'placeOrder',
      'getOrderById',
      'deleteOrder',
    ]);
    expect(
      names({
        include: { tags: ['store'] },
        exclude: { operations: ['deleteOrder', 'get /store/inventory'] },
      }),
    ).toEqual(['placeOrder', 'getOrderById']);
    expect(names({ include: { paths: ['/user/*'] } })).toEqual([
      'createUsersWithListInput',
      'loginUser',
      'logoutUser',
      'getUserByName',
      'updateUser',
      'deleteUser',
    ]);
    expect(() => importOpenApi(petstoreYaml)).toThrow(
      'the document\'s server URL "/api/v3" is not absolute; pass baseUrl',
    );
  });
});

describe('importOpenApi then call: a Petstore-like API on loopback', () => {
  it('adds, finds, gets and deletes a pet through the imported tools', async () => {
    const pets = new Map<number, Record<string, unknown>>();
    const app = new Hono().basePath('/api/v3');
    app.post('/pet', async (c) => {
      const pet = { ...(await c.req.json<Record<string, unknown>>()), id: pets.size + 1 };
      pets.set(pet.id, pet);
      return c.json(pet);
    });
    app.get('/pet/findByStatus', (c) =>
      c.json([...pets.values()].filter((pet) => pet.status === c.req.query('status'))),
    );
    app.get('/pet/:petId', (c) => {
      if (c.req.header('api_key') !== 'special-key') return c.json({ message: 'no key' }, 401);
      const pet = pets.get(Number(c.req.param('petId')));
      return pet ? c.json(pet) : c.json({ code: 1, type: 'error', message: 'Pet not found' }, 404);
    });
    app.delete('/pet/:petId', (c) => {
      pets.delete(Number(c.req.param('petId')));
      return c.body(null, 200);
    });
    app.get('/user/login', (c) => c.json(`logged in user session:${c.req.query('username')}`));
    await using server = await startApiServer(app);
    const { tools } = importOpenApi(parseYaml(petstoreYaml) as object, {
      baseUrl: `${server.origin}/api/v3`,
      auth: { api_key: { value: 'special-key' } },
      defaults: { timeoutMs: 5000 },
    });
    await using upstream = disposableUpstream({
      id: 'petstore',
      name: 'petstore',
      tools,
      outboundAllow: [`127.0.0.1:${server.port}`],
    });
    expect(upstream.getCatalog().tools).toHaveLength(18);

    const added = await callTool(upstream, 'addPet', {
      name: 'Rex',
      photoUrls: ['https://img.example/rex.png'],
      category: { id: 1, name: 'Dogs' },
      status: 'available',
    });
    expect(added.structuredContent).toEqual({
      id: 1,
      name: 'Rex',
      photoUrls: ['https://img.example/rex.png'],
      category: { id: 1, name: 'Dogs' },
      status: 'available',
    });
    const found = await callTool(upstream, 'findPetsByStatus', { status: 'available' });
    expect(found.structuredContent).toEqual({ result: [added.structuredContent] });
    expect((await callTool(upstream, 'getPetById', { petId: 1 })).structuredContent).toMatchObject({
      name: 'Rex',
    });
    const badId = await callTool(upstream, 'getPetById', { petId: 'one' });
    expect(textOf(badId)).toBe('Invalid arguments for tool "getPetById": petId must be integer');
    const missingName = await callTool(upstream, 'addPet', { photoUrls: [] });
    expect(textOf(missingName)).toBe('Invalid arguments for tool "addPet": missing required "name"');
    const wrongStatus = await callTool(upstream, 'findPetsByStatus', { status: 'lost' });
    expect(textOf(wrongStatus)).toBe(
      'Invalid arguments for tool "findPetsByStatus": status must be one of ["available","pending","sold"]',
    );

    expect(textOf(await callTool(upstream, 'deletePet', { petId: 1 }))).toBe('HTTP 200 (empty body)');
    const gone = await callTool(upstream, 'getPetById', { petId: 1 });
    expect(gone.isError).toBe(true);
    expect(textOf(gone)).toContain('HTTP 404 Not Found');
    expect(textOf(gone)).toContain('Pet not found');
    expect((await callTool(upstream, 'loginUser', { username: 'ada' })).structuredContent).toEqual({
      result: 'logged in user session:ada',
    });
  });
});

describe('importOpenApi: names, Swagger 2.0, OpenAPI 3.1 and diffs', () => {
  it('sanitizes operationIds, falls back to method_path, and keeps names unique', () => {
    const { tools } = importOpenApi({
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      servers: [
        {
          url: 'https://{region}.api.example/v{major}',
          variables: { region: { default: 'eu' }, major: { default: '2' } },
        },
      ],
      paths: {
        '/repos/{owner}/{repo}/contents/{path}': {
          get: { operationId: 'repos/get content', parameters: [] },
          put: { operationId: 'repos/get content' },
        },
        '/items': {
          get: {
            parameters: [
              { name: 'filter[status]', in: 'query', schema: { type: ['string', 'null'] } },
              { name: 'id', in: 'query', schema: { type: 'string' } },
              { name: 'id', in: 'header', schema: { type: 'string' } },
            ],
          },
        },
      },
    });
    expect(tools.map((tool) => [tool.name, tool.url])).toEqual([
      ['repos_get_content', 'https://eu.api.example/v2/repos/{owner}/{repo}/contents/{path}'],
      ['repos_get_content_2', 'https://eu.api.example/v2/repos/{owner}/{repo}/contents/{path}'],
      ['get_items', 'https://eu.api.example/v2/items'],
    ]);
    expect(tools[0]?.inputSchema?.required).toEqual(['owner', 'repo', 'path']);
    expect(tools[2]?.query).toEqual({ 'filter[status]': { from: 'filter_status_' }, id: { from: 'id' } });
    expect(tools[2]?.headers).toEqual({ id: { from: 'id_header' } });
  });

  it('maps bearer, API-key-in-query and OAuth client-credentials schemes', () => {
    const { tools, warnings } = importOpenApi(
      {
        openapi: '3.0.3',
        info: { title: 't', version: '1' },
        servers: [{ url: 'https://api.example/v1' }],
        components: {
          securitySchemes: {
            jwt: { type: 'http', scheme: 'bearer' },
            key: { type: 'apiKey', in: 'query', name: 'apikey' },
            machine: {
              type: 'oauth2',
              flows: { clientCredentials: { tokenUrl: '/oauth/token', scopes: { read: 'r' } } },
            },
            browser: {
              type: 'oauth2',
              flows: { authorizationCode: { authorizationUrl: '/a', tokenUrl: '/t', scopes: {} } },
            },
          },
        },
        paths: {
          '/a': { get: { operationId: 'a', security: [{ jwt: [] }] } },
          '/b': { get: { operationId: 'b', security: [{ key: [] }] } },
          '/c': { get: { operationId: 'c', security: [{ machine: ['read'] }] } },
          '/d': { get: { operationId: 'd', security: [{ browser: [] }, { key: [] }] } },
          '/e': { get: { operationId: 'e', security: [{ browser: [] }] } },
        },
      },
      {
        auth: {
          jwt: { token: 'ey.J' },
          key: { value: 'k' },
          machine: { clientId: 'id', clientSecret: 'secret' },
          browser: { clientId: 'id', clientSecret: 'secret' },
        },
      },
    );
    expect(tools.map((tool) => tool.auth)).toEqual([
      { type: 'bearer', token: 'ey.J' },
      { type: 'apiKey', in: 'query', name: 'apikey', value: 'k' },
      {
        type: 'oauth2ClientCredentials',
        tokenUrl: 'https://api.example/oauth/token',
        clientId: 'id',
        clientSecret: 'secret',
        scopes: ['read'],
      },
      { type: 'apiKey', in: 'query', name: 'apikey', value: 'k' },
      undefined,
    ]);
    expect(warnings).toEqual([
      'security scheme "browser" (oauth2 without a client credentials flow) is not supported',
    ]);
  });

  it('reads Swagger 2.0: host and basePath, body and form parameters, basic auth', () => {
    const { tools, warnings } = importOpenApi(
      {
        swagger: '2.0',
        info: { title: 't', version: '1' },
        host: 'legacy.example',
        basePath: '/v1',
        schemes: ['https'],
        securityDefinitions: { basicAuth: { type: 'basic' } },
        security: [{ basicAuth: [] }],
        definitions: {
          Note: {
            type: 'object',
            required: ['text'],
            properties: {
              text: { type: 'string' },
              id: { type: 'integer', readOnly: true },
              parent: { $ref: '#/definitions/Note' },
            },
          },
        },
        paths: {
          '/notes': {
            post: {
              operationId: 'createNote',
              parameters: [
                { name: 'note', in: 'body', required: true, schema: { $ref: '#/definitions/Note' } },
              ],
              responses: { 201: { description: 'ok', schema: { $ref: '#/definitions/Note' } } },
            },
          },
          '/login': {
            post: {
              operationId: 'login',
              consumes: ['application/x-www-form-urlencoded'],
              parameters: [{ name: 'user', in: 'formData', type: 'string', required: true }],
            },
          },
        },
      },
      { auth: { basicAuth: { username: 'u', password: 'p' } } },
    );
    expect(warnings).toEqual([]);
    const [createNote, login] = tools;
    expect(createNote).toMatchObject({
      url: 'https://legacy.example/v1/notes',
      body: { fields: { text: { from: 'text' }, parent: { from: 'parent' } } },
      inputSchema: { required: ['text'] },
      auth: { type: 'basic', username: 'u', password: 'p' },
    });
    // readOnly `id` is not an input; the recursive `parent` is cut where it refers back to Note.
    expect(Object.keys(createNote?.inputSchema?.properties as object)).toEqual(['text', 'parent']);
    expect((createNote?.inputSchema?.properties as Record<string, unknown>).parent).toEqual({
      description: 'A Note (recursive; not expanded further)',
    });
    expect(createNote?.outputSchema?.properties).toHaveProperty('id');
    expect(login).toMatchObject({ body: { fields: { user: { from: 'user' } }, encoding: 'form' } });
  });

  it('reports what a re-import added, updated and removed', () => {
    const before = importOpenApi(petstoreYaml, { baseUrl: 'https://p.example' }).tools;
    const spec = parseYaml(petstoreYaml) as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    delete spec.paths['/user/logout'];
    (spec.paths['/pet/{petId}'] as Record<string, Record<string, unknown>>).get!.summary = 'Find a pet.';
    spec.paths['/pet/{petId}/vaccinations'] = { get: { operationId: 'listVaccinations' } };
    const after = importOpenApi(spec, { baseUrl: 'https://p.example' }).tools;
    const diff = diffToolSets(before, after);
    expect(diff.added).toEqual(['listVaccinations']);
    expect(diff.updated).toEqual(['getPetById']);
    expect(diff.removed).toEqual(['logoutUser']);
    expect(diff.unchanged).toHaveLength(16);
  });
});

describe('importOpenApi: a large real-world spec (GitHub REST API, @octokit/openapi 23.0.2)', () => {
  const spec = JSON.parse(
    gunzipSync(readFileSync(new URL('api.github.com.json.gz', testData))).toString('utf8'),
  ) as {
    paths: Record<string, Record<string, unknown>>;
  };

  it('imports 1,222 operations as valid, unique, self-contained tools and serves them all', () => {
    const started = performance.now();
    const { tools, warnings } = importOpenApi(spec);
    const importMs = performance.now() - started;
    const operations = Object.values(spec.paths).flatMap((item) =>
      Object.keys(item).filter((key) =>
        ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'].includes(key),
      ),
    );
    expect(operations).toHaveLength(1223);
    expect(tools).toHaveLength(1222);
    expect(warnings).toEqual([
      'POST /repos/{owner}/{repo}/releases/{release_id}/assets: request body type application/octet-stream is not supported; operation skipped',
    ]);
    const names = tools.map((tool) => tool.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.every((name) => /^[A-Za-z0-9_-]{1,64}$/.test(name))).toBe(true);
    expect(JSON.stringify(tools)).not.toContain('"$ref"');
    expect(importMs).toBeLessThan(10_000);

    const tool = byName(tools);
    expect(tool.get('repos_get')).toMatchObject({
      method: 'GET',
      url: 'https://api.github.com/repos/{owner}/{repo}',
      inputSchema: { required: ['owner', 'repo'] },
      outputSchema: { type: 'object', required: expect.arrayContaining(['full_name', 'owner']) as unknown },
    });
    expect(tool.get('issues_create')).toMatchObject({
      method: 'POST',
      url: 'https://api.github.com/repos/{owner}/{repo}/issues',
      inputSchema: { required: ['owner', 'repo', 'title'] },
      body: { encoding: 'json', fields: { title: { from: 'title' }, labels: { from: 'labels' } } },
    });

    const upstream = disposableUpstream({ id: 'github', name: 'github', tools });
    expect(upstream.getCatalog().tools).toHaveLength(1222);
    void upstream.close();
  });

  it('calls imported GitHub operations against a local stand-in', async () => {
    const app = new Hono();
    const created: unknown[] = [];
    app.get('/zen', (c) => c.text('Keep it logically awesome.'));
    app.get('/repos/:owner/:repo', (c) => c.json({ id: 1, name: c.req.param('repo') }));
    app.post('/repos/:owner/:repo/issues', async (c) => {
      created.push(await c.req.json());
      return c.json({ number: 7 }, 201);
    });
    await using server = await startApiServer(app);
    const { tools } = importOpenApi(spec, {
      baseUrl: server.origin,
      include: { operations: ['meta/get-zen', 'repos/get', 'issues/create'] },
      auth: {},
    });
    await using upstream = disposableUpstream({
      id: 'github',
      name: 'github',
      tools: tools.map((entry) =>
        entry.name === 'issues_create' ? { ...entry, response: { validate: false } } : entry,
      ),
      outboundAllow: [`127.0.0.1:${server.port}`],
    });
    expect(textOf(await callTool(upstream, 'meta_get-zen'))).toBe('Keep it logically awesome.');
    const repo = await callTool(upstream, 'repos_get', { owner: 'octo', repo: 'hello' });
    expect(repo.isError).toBe(true);
    expect(textOf(repo)).toContain("the response does not match the tool's output schema: missing required");
    const issue = await callTool(upstream, 'issues_create', {
      owner: 'octo',
      repo: 'hello',
      title: 'Bug',
      body: 'It broke.',
      labels: ['bug'],
    });
    expect(issue.structuredContent).toEqual({ number: 7 });
    expect(created).toEqual([{ title: 'Bug', body: 'It broke.', labels: ['bug'] }]);
  });
});
