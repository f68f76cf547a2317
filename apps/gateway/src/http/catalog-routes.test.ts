import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RpcError, RpcErrorCode } from '@mcp-gateway/core';
import {
  createDatabase,
  createGatewayStore,
  createPromptStore,
  createResourceStore,
  createToolStore,
  type Database,
  type GatewayRecord,
  type PromptRecord,
  type PromptStore,
  type ResourceStore,
  type ToolStore,
} from '@mcp-gateway/registry';
import { createCatalogRoutes, renderLocalPrompt, type CatalogChange } from './catalog-routes.ts';
import { renderRestError } from './rest-error.ts';

type ErrorBody = { error: { code: string; message: string; details?: unknown } };
type Item = { id: string; version: number; gatewayId?: string } & Record<string, unknown>;
type PageBody = { items: Item[]; nextCursor?: string };

describe('REST API /v1/tools, /v1/prompts, /v1/resources', () => {
  let database: Database;
  let tools: ToolStore;
  let prompts: PromptStore;
  let resources: ResourceStore;
  let gateway: GatewayRecord;
  let app: Hono;
  const published: CatalogChange[] = [];

  /** The routes as gateway-app mounts them, with the app's error rendering. */
  function mount(extra: Partial<Parameters<typeof createCatalogRoutes>[0]> = {}): Hono {
    const routes = createCatalogRoutes({
      tools,
      prompts,
      resources,
      publish: async (change) => {
        published.push(change);
      },
      ...extra,
    });
    const mounted = new Hono();
    mounted.onError((error, c) =>
      renderRestError(c, error, (fields) => {
        throw new Error(`unexpected error: ${JSON.stringify(fields)}`);
      }),
    );
    mounted.route('/v1/tools', routes.tools);
    mounted.route('/v1/prompts', routes.prompts);
    mounted.route('/v1/resources', routes.resources);
    return mounted;
  }

  const request = (
    path: string,
    init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) =>
    app.request(path, {
      method: init.method ?? 'GET',
      headers: { 'content-type': 'application/json', ...init.headers },
      ...(init.body === undefined
        ? {}
        : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
    });
  const errorOf = async (response: Response) => ((await response.json()) as ErrorBody).error;

  beforeAll(async () => {
    database = await createDatabase();
    const options = { db: database.db };
    tools = createToolStore(options);
    prompts = createPromptStore(options);
    resources = createResourceStore(options);
    gateway = await createGatewayStore(options).create({
      name: 'github',
      transport: 'streamable-http',
      url: 'https://gh.example/mcp',
    });
    await tools.syncDiscovered(gateway.id, [
      { name: 'create_issue', description: 'Open an issue', inputSchema: { type: 'object' } },
      { name: 'search_issues', description: 'Find issues by text', inputSchema: { type: 'object' } },
      { name: 'get_file', description: 'Read a file', inputSchema: { type: 'object' } },
      { name: 'list_repos', inputSchema: { type: 'object' } },
      { name: 'merge_pr', inputSchema: { type: 'object' } },
      { name: 'star', inputSchema: { type: 'object' } },
      { name: 'fork', inputSchema: { type: 'object' } },
    ]);
    await prompts.syncDiscovered(gateway.id, [{ name: 'triage', description: 'Triage an issue' }]);
    await resources.syncDiscovered(gateway.id, [{ uri: 'repo://readme', name: 'README' }]);
    app = mount();
  });
  afterAll(() => database?.close());

  async function toolId(name: string): Promise<string> {
    const page = (await (await request(`/v1/tools?q=${name}`)).json()) as PageBody;
    const found = page.items.find((item) => item.originalName === name);
    if (!found) throw new Error(`no tool ${name}`);
    return found.id;
  }

  describe('lists', () => {
    it('filters by gateway, text, tag and enabled', async () => {
      const all = (await (await request(`/v1/tools?gateway=${gateway.id}`)).json()) as PageBody;
      expect(all.items).toHaveLength(7);
      expect(all.nextCursor).toBeUndefined();
      const local = (await (await request('/v1/tools?gateway=local')).json()) as PageBody;
      expect(local.items).toEqual([]);

      const search = (await (await request('/v1/tools?q=ISSUE')).json()) as PageBody;
      expect(search.items.map((item) => item.originalName).sort()).toEqual(['create_issue', 'search_issues']);

      const starId = await toolId('star');
      await request(`/v1/tools/${starId}`, { method: 'PATCH', body: { enabled: false, tags: ['social'] } });
      const tagged = (await (await request('/v1/tools?tag=social')).json()) as PageBody;
      expect(tagged.items.map((item) => item.id)).toEqual([starId]);
      const disabled = (await (await request('/v1/tools?enabled=false')).json()) as PageBody;
      expect(disabled.items.map((item) => item.id)).toEqual([starId]);
      const enabled = (await (await request('/v1/tools?enabled=true')).json()) as PageBody;
      expect(enabled.items).toHaveLength(6);
      await request(`/v1/tools/${starId}`, { method: 'PATCH', body: { enabled: true, tags: [] } });
    });

    it('walks every page with cursors, each item once', async () => {
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | undefined;
      do {
        const response = await request(`/v1/tools?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        expect(response.status).toBe(200);
        const page = (await response.json()) as PageBody;
        sizes.push(page.items.length);
        seen.push(...page.items.map((item) => item.id));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(sizes).toEqual([3, 3, 1]);
      expect(new Set(seen).size).toBe(7);
    });

    it('refuses bad query values with 400 naming the parameter', async () => {
      for (const [query, parameter] of [
        ['limit=0', 'limit'],
        ['limit=501', 'limit'],
        ['limit=ten', 'limit'],
        ['enabled=yes', 'enabled'],
        ['tags=x', 'tags'],
        ['cursor=not-a-cursor', 'cursor'],
      ] as const) {
        const response = await request(`/v1/tools?${query}`);
        expect(response.status, query).toBe(400);
        const error = await errorOf(response);
        expect(error.code).toBe('invalid-input');
        expect(error.message, query).toContain(parameter);
        expect(error.details, query).toEqual([expect.objectContaining({ path: parameter })]);
      }
      expect((await errorOf(await request('/v1/tools?tags=x'))).message).toBe(
        'invalid query: tags: unknown query parameter',
      );
    });
  });

  describe('read and change', () => {
    it('sends an ETag, honours If-Match, and answers 412 with a clear message on a stale version', async () => {
      const id = await toolId('get_file');
      const read = await request(`/v1/tools/${id}`);
      expect(read.status).toBe(200);
      expect(read.headers.get('etag')).toBe(`W/"${id}-1"`);
      expect(((await read.json()) as Item).originalName).toBe('get_file');
      const unchanged = await request(`/v1/tools/${id}`, { headers: { 'if-none-match': `W/"${id}-1"` } });
      expect(unchanged.status).toBe(304);

      published.length = 0;
      const patched = await request(`/v1/tools/${id}`, {
        method: 'PATCH',
        headers: { 'if-match': `W/"${id}-1"` },
        body: {
          alias: 'read_file',
          descriptionOverride: 'Reads one file',
          annotationsOverride: { readOnlyHint: true },
        },
      });
      expect(patched.status).toBe(200);
      expect(patched.headers.get('etag')).toBe(`W/"${id}-2"`);
      expect(await patched.json()).toMatchObject({
        alias: 'read_file',
        descriptionOverride: 'Reads one file',
        annotationsOverride: { readOnlyHint: true },
        version: 2,
      });
      expect(published).toEqual([{ kind: 'tool', id, version: 2 }]);

      const stale = await request(`/v1/tools/${id}`, {
        method: 'PATCH',
        headers: { 'if-match': `W/"${id}-1"` },
        body: { enabled: false },
      });
      expect(stale.status).toBe(412);
      const error = await errorOf(stale);
      expect(error.code).toBe('precondition-failed');
      expect(error.message).toBe(
        'tool changed since you read it (version 2 now, you sent 1); GET it again and retry',
      );
      expect((await (await request(`/v1/tools/${id}`)).json()) as Item).toMatchObject({
        enabled: true,
        version: 2,
      });
      expect(published).toHaveLength(1);

      const cleared = await request(`/v1/tools/${id}`, {
        method: 'PATCH',
        headers: { 'if-match': '*' },
        body: { alias: null, descriptionOverride: null, annotationsOverride: null },
      });
      expect(cleared.status).toBe(200);
      const body = (await cleared.json()) as Item;
      expect(body.alias).toBeUndefined();
      expect(body.descriptionOverride).toBeUndefined();
    });

    it('answers 412 for an ETag of another item and 400 for a malformed If-Match', async () => {
      const id = await toolId('list_repos');
      const other = await toolId('merge_pr');
      const wrong = await request(`/v1/tools/${id}`, {
        method: 'PATCH',
        headers: { 'if-match': `W/"${other}-1"` },
        body: { enabled: false },
      });
      expect(wrong.status).toBe(412);
      expect((await errorOf(wrong)).message).toContain(`If-Match names "${other}"`);
      for (const header of ['version-1', `W/"${id}"`, `"${id}-1", "${id}-2"`, `W/"${id}-0"`]) {
        const malformed = await request(`/v1/tools/${id}`, {
          method: 'PATCH',
          headers: { 'if-match': header },
          body: { enabled: false },
        });
        expect(malformed.status, header).toBe(400);
        expect((await errorOf(malformed)).details).toEqual([expect.objectContaining({ path: 'If-Match' })]);
      }
      expect(((await (await request(`/v1/tools/${id}`)).json()) as Item).version).toBe(1);
    });

    it('answers 404 with the error shape for an unknown id', async () => {
      const missing = await request('/v1/tools/nope');
      expect(missing.status).toBe(404);
      expect(await errorOf(missing)).toMatchObject({ code: 'not-found', message: 'no tool with id "nope"' });
      expect((await request('/v1/prompts/nope', { method: 'PATCH', body: {} })).status).toBe(404);
      expect((await errorOf(await request('/v1/resources/nope', { method: 'DELETE' }))).message).toBe(
        'no resource with id "nope"',
      );
    });

    it('answers 409 when an alias is taken', async () => {
      const first = await toolId('merge_pr');
      const second = await toolId('fork');
      expect(
        (await request(`/v1/tools/${first}`, { method: 'PATCH', body: { alias: 'repo_op' } })).status,
      ).toBe(200);
      const taken = await request(`/v1/tools/${second}`, { method: 'PATCH', body: { alias: 'repo_op' } });
      expect(taken.status).toBe(409);
      expect(await errorOf(taken)).toMatchObject({
        code: 'conflict',
        message: 'another tool already has the alias "repo_op"',
      });
    });

    it('refuses a bad body with 400 naming the field', async () => {
      const id = await toolId('fork');
      const badAlias = await request(`/v1/tools/${id}`, { method: 'PATCH', body: { alias: 'not a name!' } });
      expect(badAlias.status).toBe(400);
      expect(await errorOf(badAlias)).toMatchObject({
        code: 'invalid-input',
        details: [{ path: 'alias', message: 'alias must be 1 to 64 letters, digits, "_" or "-"' }],
      });
      const unknown = await request(`/v1/tools/${id}`, { method: 'PATCH', body: { definition: {} } });
      expect((await errorOf(unknown)).details).toEqual([{ path: 'definition', message: 'unknown field' }]);
      const wrongType = await request(`/v1/tools/${id}`, { method: 'PATCH', body: { enabled: 'yes' } });
      expect((await errorOf(wrongType)).message).toBe(
        'invalid request: enabled: enabled must be true or false',
      );
      const notJson = await request(`/v1/tools/${id}`, { method: 'PATCH', body: '{nope' });
      expect(notJson.status).toBe(400);
      expect((await errorOf(notJson)).message).toContain('not valid JSON');
    });

    it('refuses to delete a discovered item with 409: disable it instead', async () => {
      const id = await toolId('star');
      const response = await request(`/v1/tools/${id}`, { method: 'DELETE' });
      expect(response.status).toBe(409);
      const error = await errorOf(response);
      expect(error.code).toBe('conflict');
      expect(error.message).toContain('comes from gateway');
      expect(error.message).toContain('disable it instead');
      expect((await request(`/v1/tools/${id}`)).status).toBe(200);
    });
  });

  describe('adapter tools', () => {
    it('checks inputSchema with Ajv and answers 422 pointing at it', async () => {
      const response = await request('/v1/tools', {
        method: 'POST',
        body: { integration: 'rest', inputSchema: { type: 'object', properties: { q: { type: 'strng' } } } },
      });
      expect(response.status).toBe(422);
      const error = await errorOf(response);
      expect(error.code).toBe('invalid-input');
      expect(error.details).toEqual([
        { path: 'inputSchema', message: expect.stringContaining('not a valid JSON Schema') },
      ]);
      expect(error.message).toContain('properties/q/type');

      const notObject = await request('/v1/tools', {
        method: 'POST',
        body: { integration: 'rest', inputSchema: { type: 'string' } },
      });
      expect(notObject.status).toBe(422);
      expect((await errorOf(notObject)).message).toContain('"type": "object"');
    });

    it('answers 422 "not available yet" without an adapter, and 400 for an unknown integration', async () => {
      const response = await request('/v1/tools', {
        method: 'POST',
        body: { integration: 'rest', name: 'weather', inputSchema: { type: 'object' } },
      });
      expect(response.status).toBe(422);
      expect(await errorOf(response)).toMatchObject({
        code: 'invalid-input',
        message: 'integration "rest" is not available yet',
      });
      const unknown = await request('/v1/tools', { method: 'POST', body: { integration: 'soap' } });
      expect(unknown.status).toBe(400);
      expect((await errorOf(unknown)).details).toEqual([expect.objectContaining({ path: 'integration' })]);
    });

    it('creates through createTool, masks credentials, and then deletes the local tool', async () => {
      const withAdapter = mount({
        createTool: (body) =>
          tools.create({
            definition: {
              name: String(body.name),
              inputSchema: { ...body.inputSchema, type: 'object' as const },
            },
            integration: body.integration,
            integrationConfig: {
              url: 'https://api.example/weather',
              auth: { type: 'bearer', token: 's3cret' },
            },
          }),
      });
      published.length = 0;
      const response = await withAdapter.request('/v1/tools', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          integration: 'rest',
          name: 'weather',
          inputSchema: {
            $schema: 'http://json-schema.org/draft-07/schema#',
            type: 'object',
            properties: { city: { type: 'string' } },
          },
        }),
      });
      expect(response.status).toBe(201);
      const tool = (await response.json()) as Item;
      expect(response.headers.get('location')).toBe(`/v1/tools/${tool.id}`);
      expect(response.headers.get('etag')).toBe(`W/"${tool.id}-1"`);
      expect(tool.integrationConfig).toEqual({ url: 'https://api.example/weather', auth: '********' });
      expect(JSON.stringify(tool)).not.toContain('s3cret');
      expect(published).toEqual([{ kind: 'tool', id: tool.id, version: 1 }]);

      const local = (await (await request('/v1/tools?gateway=local')).json()) as PageBody;
      expect(local.items.map((item) => item.id)).toEqual([tool.id]);
      const stale = await request(`/v1/tools/${tool.id}`, {
        method: 'DELETE',
        headers: { 'if-match': `W/"${tool.id}-7"` },
      });
      expect(stale.status).toBe(412);
      const deleted = await request(`/v1/tools/${tool.id}`, {
        method: 'DELETE',
        headers: { 'if-match': `W/"${tool.id}-1"` },
      });
      expect(deleted.status).toBe(204);
      expect((await request(`/v1/tools/${tool.id}`)).status).toBe(404);
      expect(published.at(-1)).toEqual({ kind: 'tool', id: tool.id, version: 2 });
    });
  });

  describe('local prompts', () => {
    const template = {
      messages: [
        { role: 'user', text: 'Write {{ count }} haiku about {{topic}}.' },
        { role: 'assistant', text: 'Formal: {{formal}}' },
      ],
      arguments: [
        { name: 'topic', description: 'What about', required: true },
        { name: 'count', type: 'integer' },
        { name: 'formal', type: 'boolean' },
      ],
    };

    it('creates a prompt whose arguments clients see, and renders it safely', async () => {
      published.length = 0;
      const response = await request('/v1/prompts', {
        method: 'POST',
        body: { name: 'haiku', description: 'Short poems', template, tags: ['fun'] },
      });
      expect(response.status).toBe(201);
      const prompt = (await response.json()) as PromptRecord;
      expect(prompt.gatewayId).toBeUndefined();
      expect(prompt.definition).toEqual({
        name: 'haiku',
        description: 'Short poems',
        arguments: [
          { name: 'topic', description: 'What about', required: true },
          { name: 'count' },
          { name: 'formal' },
        ],
      });
      expect(published).toEqual([{ kind: 'prompt', id: prompt.id, version: 1 }]);
      const local = (await (await request('/v1/prompts?gateway=local')).json()) as PageBody;
      expect(local.items.map((item) => item.id)).toEqual([prompt.id]);

      const stored = (await prompts.get(prompt.id))!;
      expect(
        renderLocalPrompt(stored.template!, { topic: 'the sea {{count}}', count: ' 3 ', formal: 'TRUE' }),
      ).toEqual({
        messages: [
          { role: 'user', content: { type: 'text', text: 'Write 3 haiku about the sea {{count}}.' } },
          { role: 'assistant', content: { type: 'text', text: 'Formal: true' } },
        ],
      });
      expect(renderLocalPrompt(stored.template!, { topic: 'rain' }).messages[0]?.content.text).toBe(
        'Write  haiku about rain.',
      );
      expect(() => renderLocalPrompt(stored.template!, { count: '2' })).toThrow(
        new RpcError(RpcErrorCode.InvalidParams, 'missing required argument "topic"'),
      );
      expect(() => renderLocalPrompt(stored.template!, { topic: 'x', count: '2.5' })).toThrow(
        'argument "count" must be a whole number, got "2.5"',
      );
      expect(() => renderLocalPrompt(stored.template!, { topic: 'x', formal: 'maybe' })).toThrow(
        'argument "formal" must be true or false, got "maybe"',
      );
    });

    it('answers 422 pointing at a placeholder that names no argument', async () => {
      const response = await request('/v1/prompts', {
        method: 'POST',
        body: {
          name: 'broken',
          template: {
            messages: [{ role: 'user', text: 'Hello {{name}} and {{x}}' }],
            arguments: [{ name: 'name' }],
          },
        },
      });
      expect(response.status).toBe(422);
      expect(await errorOf(response)).toMatchObject({
        code: 'invalid-input',
        details: [{ path: 'template.messages.0.text', message: 'unknown placeholder {{x}}' }],
      });
      const helper = await request('/v1/prompts', {
        method: 'POST',
        body: {
          name: 'helper',
          template: { messages: [{ role: 'user', text: '{{#if x}}' }], arguments: [] },
        },
      });
      expect(helper.status).toBe(422);
      expect((await errorOf(helper)).details).toEqual([
        { path: 'template.messages.0.text', message: 'unknown placeholder {{#if x}}' },
      ]);
      expect(((await (await request('/v1/prompts?q=broken')).json()) as PageBody).items).toEqual([]);
    });

    it('validates the create body with 400s and a taken name with 409', async () => {
      const noTemplate = await request('/v1/prompts', { method: 'POST', body: { name: 'x' } });
      expect(noTemplate.status).toBe(400);
      expect((await errorOf(noTemplate)).details).toEqual([expect.objectContaining({ path: 'template' })]);
      const badRole = await request('/v1/prompts', {
        method: 'POST',
        body: { name: 'x', template: { messages: [{ role: 'system', text: 'hi' }] } },
      });
      expect((await errorOf(badRole)).details).toEqual([
        { path: 'template.messages.0.role', message: 'role must be "user" or "assistant"' },
      ]);
      const taken = await request('/v1/prompts', {
        method: 'POST',
        body: { name: 'haiku', template: { messages: [{ role: 'user', text: 'again' }] } },
      });
      expect(taken.status).toBe(409);
    });

    it('changes a local template (checked again), not a discovered one, and deletes local prompts', async () => {
      const page = (await (await request('/v1/prompts?gateway=local&q=haiku')).json()) as PageBody;
      const id = page.items[0]!.id;
      const unknown = await request(`/v1/prompts/${id}`, {
        method: 'PATCH',
        body: { template: { messages: [{ role: 'user', text: '{{missing}}' }] } },
      });
      expect(unknown.status).toBe(422);
      const changed = await request(`/v1/prompts/${id}`, {
        method: 'PATCH',
        body: {
          template: {
            messages: [{ role: 'user', text: 'Tell me about {{subject}}' }],
            arguments: [{ name: 'subject', required: true }],
          },
        },
      });
      expect(changed.status).toBe(200);
      const prompt = (await changed.json()) as PromptRecord;
      expect(prompt.definition.arguments).toEqual([{ name: 'subject', required: true }]);
      expect(renderLocalPrompt(prompt.template!, { subject: 'tides' }).messages[0]?.content.text).toBe(
        'Tell me about tides',
      );

      const discovered = ((await (await request(`/v1/prompts?gateway=${gateway.id}`)).json()) as PageBody)
        .items[0]!;
      const refused = await request(`/v1/prompts/${discovered.id}`, {
        method: 'PATCH',
        body: { template: { messages: [{ role: 'user', text: 'hi' }] } },
      });
      expect(refused.status).toBe(400);
      expect((await errorOf(refused)).details).toEqual([expect.objectContaining({ path: 'template' })]);
      const disabled = await request(`/v1/prompts/${discovered.id}`, {
        method: 'PATCH',
        body: { enabled: false },
      });
      expect(((await disabled.json()) as Item).enabled).toBe(false);
      expect((await request(`/v1/prompts/${discovered.id}`, { method: 'DELETE' })).status).toBe(409);

      expect((await request(`/v1/prompts/${id}`, { method: 'DELETE' })).status).toBe(204);
      expect((await request(`/v1/prompts/${id}`)).status).toBe(404);
    });
  });

  describe('local resources', () => {
    it('creates text and blob resources, leaves content out of lists, and changes it', async () => {
      const text = await request('/v1/resources', {
        method: 'POST',
        body: {
          uri: 'note://welcome',
          name: 'Welcome',
          mimeType: 'text/markdown',
          text: '# Hi',
          tags: ['docs'],
        },
      });
      expect(text.status).toBe(201);
      const note = (await text.json()) as Item;
      expect(note).toMatchObject({
        uri: 'note://welcome',
        kind: 'resource',
        definition: { uri: 'note://welcome', name: 'Welcome', mimeType: 'text/markdown' },
        localContent: { text: '# Hi', mimeType: 'text/markdown' },
      });
      const blob = await request('/v1/resources', {
        method: 'POST',
        body: { uri: 'file:///logo.png', name: 'Logo', blob: 'iVBORw0KGgo=' },
      });
      expect(blob.status).toBe(201);
      expect(((await blob.json()) as Item).localContent).toEqual({
        blob: 'iVBORw0KGgo=',
        mimeType: 'application/octet-stream',
      });

      const listed = (await (await request('/v1/resources?gateway=local')).json()) as PageBody;
      expect(listed.items).toHaveLength(2);
      expect(listed.items.every((item) => !('localContent' in item))).toBe(true);
      expect(
        ((await (await request('/v1/resources?tag=docs')).json()) as PageBody).items.map((i) => i.id),
      ).toEqual([note.id]);

      const patched = await request(`/v1/resources/${note.id}`, {
        method: 'PATCH',
        headers: { 'if-match': `W/"${note.id}-1"` },
        body: { localContent: { text: '# Hello' } },
      });
      expect(patched.status).toBe(200);
      expect(((await patched.json()) as Item).localContent).toEqual({ text: '# Hello' });
    });

    it('refuses missing content, bad base64, a taken URI and deleting a discovered resource', async () => {
      const neither = await request('/v1/resources', {
        method: 'POST',
        body: { uri: 'note://x', name: 'X' },
      });
      expect(neither.status).toBe(400);
      expect((await errorOf(neither)).details).toEqual([
        { path: 'text', message: 'give the content as exactly one of text or blob (base64)' },
      ]);
      const badBlob = await request('/v1/resources', {
        method: 'POST',
        body: { uri: 'note://x', name: 'X', blob: 'not base64!' },
      });
      expect((await errorOf(badBlob)).details).toEqual([{ path: 'blob', message: 'blob must be base64' }]);
      const noScheme = await request('/v1/resources', {
        method: 'POST',
        body: { uri: 'welcome', name: 'X', text: '' },
      });
      expect((await errorOf(noScheme)).details).toEqual([expect.objectContaining({ path: 'uri' })]);
      const taken = await request('/v1/resources', {
        method: 'POST',
        body: { uri: 'note://welcome', name: 'Again', text: '' },
      });
      expect(taken.status).toBe(409);
      const discovered = ((await (await request(`/v1/resources?gateway=${gateway.id}`)).json()) as PageBody)
        .items[0]!;
      const refused = await request(`/v1/resources/${discovered.id}`, { method: 'DELETE' });
      expect(refused.status).toBe(409);
      expect((await errorOf(refused)).message).toContain('"repo://readme"');
    });
  });
});
