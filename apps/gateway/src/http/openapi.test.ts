import { Ajv2020 } from 'ajv/dist/2020.js';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createApiDocsRoutes, renderDocsPage } from './docs-page.ts';
import { buildOpenApiDocument, type HttpMethod, type OpenApiDocument } from './openapi.ts';

const expectedOperations: Array<[string, HttpMethod[]]> = [
  ['/v1/gateways', ['get', 'post']],
  ['/v1/gateways/{id}', ['get', 'patch', 'delete']],
  ['/v1/gateways/{id}/refresh', ['post']],
  ['/v1/tools', ['get', 'post']],
  ['/v1/tools/{id}', ['get', 'patch', 'delete']],
  ['/v1/tools/{id}/invoke', ['post']],
  ['/v1/prompts', ['get', 'post']],
  ['/v1/prompts/{id}', ['get', 'patch', 'delete']],
  ['/v1/resources', ['get', 'post']],
  ['/v1/resources/{id}', ['get', 'patch', 'delete']],
  ['/v1/servers', ['get', 'post']],
  ['/v1/servers/{id}', ['get', 'patch', 'delete']],
  ['/v1/tags', ['get']],
  ['/v1/config', ['get', 'put']],
  ['/v1/stats', ['get']],
  ['/health', ['get']],
  ['/ready', ['get']],
  ['/v1/tokens', ['get', 'post']],
  ['/v1/tokens/{id}', ['get', 'delete']],
  ['/v1/users', ['get', 'post']],
  ['/v1/users/me', ['get']],
  ['/v1/users/{id}', ['get', 'patch', 'delete']],
];

/** Every `$ref` string anywhere in `value`. */
function refsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refsIn(item, found);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (key === '$ref' && typeof item === 'string') found.push(item);
      else refsIn(item, found);
    }
  }
  return found;
}

describe('OpenAPI document and docs page', () => {
  const serve = () => {
    const app = new Hono();
    app.route(
      '/',
      createApiDocsRoutes({ title: 'MCP Gateway', version: '0.1.0', serverUrl: 'http://gw.test' }),
    );
    return app;
  };

  it('serves an OpenAPI 3.1 document with every path, operation and component', async () => {
    const response = await serve().request('/openapi.json');
    expect(response.status).toBe(200);
    const document = (await response.json()) as OpenApiDocument;
    expect(document.openapi).toBe('3.1.0');
    expect(document.info).toMatchObject({ title: 'MCP Gateway', version: '0.1.0' });
    expect(document.servers).toEqual([{ url: 'http://gw.test' }]);
    for (const [path, methods] of expectedOperations) {
      expect(Object.keys(document.paths[path] ?? {}).sort(), path).toEqual([...methods].sort());
    }
    const operationIds = Object.values(document.paths).flatMap((item) =>
      Object.values(item).map((operation) => operation.operationId),
    );
    expect(new Set(operationIds).size).toBe(operationIds.length);

    // Every reference resolves inside the document.
    for (const reference of refsIn(document)) {
      const [hash, section, kind, name] = reference.split('/');
      expect(hash, reference).toBe('#');
      expect(section, reference).toBe('components');
      const components = document.components as unknown as Record<string, Record<string, unknown>>;
      expect(components[kind!]?.[name!], reference).toBeDefined();
    }
    for (const name of ['PreconditionFailed', 'UnprocessableEntity', 'Conflict', 'NotFound', 'BadRequest']) {
      expect(document.components.responses[name], name).toBeDefined();
    }
  });

  it('generates request bodies from the zod schemas the routes validate with', () => {
    const document = buildOpenApiDocument({ title: 'MCP Gateway', version: '0.1.0' });
    expect(document.servers).toBeUndefined();
    const { schemas } = document.components;
    expect(schemas.PromptCreate).toMatchObject({
      type: 'object',
      required: ['name', 'template'],
      additionalProperties: false,
    });
    expect(schemas.ToolPatch).toMatchObject({
      properties: {
        alias: { anyOf: [{ type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' }, { type: 'null' }] },
      },
    });
    expect(schemas.GatewayInput).toMatchObject({ required: ['name', 'transport'] });
    expect(schemas.VirtualServerCreate).toMatchObject({ required: ['name'] });
    expect(schemas.TokenCreate).toMatchObject({ required: ['name'], additionalProperties: false });
    expect(schemas.UserCreate).toMatchObject({
      required: ['username', 'password'],
      properties: { password: { type: 'string', minLength: 12 } },
    });
    const createPrompt = document.paths['/v1/prompts']?.post;
    expect(createPrompt?.requestBody?.content['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/PromptCreate',
    });
    expect(Object.keys(createPrompt?.responses ?? {})).toEqual(expect.arrayContaining(['201', '400', '422']));

    const patchTool = document.paths['/v1/tools/{id}']?.patch;
    expect(patchTool?.parameters).toContainEqual({ $ref: '#/components/parameters/IfMatch' });
    expect(Object.keys(patchTool?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '400', '404', '409', '412']),
    );
    expect(Object.keys(document.paths['/v1/prompts/{id}']?.patch?.responses ?? {})).toContain('422');
    expect(patchTool?.responses['200']).toMatchObject({
      headers: { ETag: { $ref: '#/components/headers/ETag' } },
    });

    const listTools = document.paths['/v1/tools']?.get;
    expect(listTools?.parameters?.map((parameter) => ('name' in parameter ? parameter.name : ''))).toEqual([
      'tag',
      'gateway',
      'enabled',
      'q',
      'cursor',
      'limit',
    ]);
    expect(listTools?.parameters).toContainEqual(
      expect.objectContaining({
        name: 'limit',
        in: 'query',
        required: false,
        schema: { default: 50, type: 'integer', minimum: 1, maximum: 500 },
      }),
    );

    // Each component is a JSON Schema a 2020-12 validator compiles.
    const ajv = new Ajv2020({ strict: false });
    for (const [name, schema] of Object.entries(schemas)) {
      expect(ajv.validateSchema(schema), `${name}: ${ajv.errorsText(ajv.errors)}`).toBe(true);
    }
  });

  it('documents owner, team and visibility on every entity, in requests and responses', () => {
    const { schemas } = buildOpenApiDocument({ title: 'MCP Gateway', version: '0.1.0' }).components;
    const visibility = { type: 'string', enum: ['private', 'team', 'public'] };
    for (const name of ['Gateway', 'Tool', 'Prompt', 'Resource', 'VirtualServer']) {
      expect(schemas[name], name).toMatchObject({
        properties: { owner: { type: 'string' }, team: { type: 'string' }, visibility },
      });
    }
    for (const name of [
      'GatewayInput',
      'ToolCreate',
      'PromptCreate',
      'ResourceCreate',
      'VirtualServerCreate',
    ]) {
      expect(schemas[name], name).toMatchObject({
        properties: { owner: { type: 'string', maxLength: 200 }, team: { type: 'string' }, visibility },
      });
    }
    for (const name of ['GatewayPatch', 'ToolPatch', 'PromptPatch', 'ResourcePatch', 'VirtualServerPatch']) {
      expect(schemas[name], name).toMatchObject({
        properties: { owner: { anyOf: [{ type: 'string' }, { type: 'null' }] } },
      });
      expect(JSON.stringify((schemas[name]?.properties as Record<string, unknown>).visibility)).toContain(
        '"private"',
      );
    }
  });

  it('renders a self-contained HTML page listing every operation, grouped by tag', async () => {
    const response = await serve().request('/docs');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await response.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<title>MCP Gateway 0.1.0</title>');
    for (const [path, methods] of expectedOperations) {
      for (const method of methods) {
        expect(html, `${method} ${path}`).toContain(
          `<span class="method ${method}">${method}</span><span class="path">${path}</span>`,
        );
      }
    }
    for (const tag of ['gateways', 'tools', 'prompts', 'resources', 'servers', 'config', 'operations']) {
      expect(html).toContain(`<section id="tag-${tag}">`);
    }
    // Request schemas are shown resolved, HTML-escaped.
    expect(html).toContain('<code>PromptCreate</code>');
    expect(html).toContain('&quot;template&quot;');
    // No script and nothing fetched from elsewhere.
    expect(html).not.toMatch(/<script|<link|src=|@import|url\(/i);
  });

  it('escapes text from the document', () => {
    const document = buildOpenApiDocument({ title: '<b>Gateway</b>', version: '1 & 2' });
    const html = renderDocsPage(document);
    expect(html).toContain('&lt;b&gt;Gateway&lt;/b&gt; 1 &amp; 2');
    expect(html).not.toContain('<b>Gateway</b>');
  });
});
