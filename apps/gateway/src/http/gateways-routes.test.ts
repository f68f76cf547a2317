import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProcessAlive, stdioFixtureCommand } from '@mcp-gateway/testing';
import { startGateway, type RunningGateway } from '../start-gateway.ts';
import { connectClient, testConfig, waitFor } from '../test-support.ts';

type ErrorBody = { error: { code: string; message: string; details?: unknown } };
type GatewayBody = {
  id: string;
  name: string;
  namespace?: string;
  headers: Record<string, string>;
  env: Record<string, string>;
  version: number;
  runtime: { status: string; namespace: string; conflicts: string[]; counts: { tools: number } };
};

describe('REST API /v1/gateways', () => {
  let gateway: RunningGateway;
  let config: Awaited<ReturnType<typeof testConfig>>;
  const api = (path: string, init?: RequestInit) =>
    fetch(`${gateway.url}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', ...init?.headers },
    });
  const post = (body: unknown) => api('/v1/gateways', { method: 'POST', body: JSON.stringify(body) });
  const stdioBody = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    transport: 'stdio',
    ...stdioFixtureCommand(name),
    ...extra,
  });
  const waitReady = (id: string) =>
    waitFor(`gateway ${id} ready`, async () => {
      const body = (await (await api(`/v1/gateways/${id}`)).json()) as GatewayBody;
      return body.runtime.status === 'ready' ? body : undefined;
    });

  beforeAll(async () => {
    config = await testConfig();
    gateway = await startGateway({ config });
  });
  afterAll(async () => {
    await gateway?.close();
    await config?.[Symbol.asyncDispose]();
  });

  it('registers a stdio upstream, serves its tools at once, and masks secrets', async () => {
    const response = await post(stdioBody('files', { env: { API_TOKEN: 'secret-value' } }));
    expect(response.status).toBe(201);
    const created = (await response.json()) as GatewayBody;
    expect(response.headers.get('location')).toBe(`/v1/gateways/${created.id}`);
    expect(created.env).toEqual({ API_TOKEN: '********' });
    expect(JSON.stringify(created)).not.toContain('secret-value');
    const ready = await waitReady(created.id);
    expect(ready.runtime.namespace).toBe('files');
    expect(ready.runtime.counts.tools).toBeGreaterThan(30);

    await using client = await connectClient(gateway);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('files__echo');
  });

  it('refuses bad input with 400 naming the field, and writes nothing', async () => {
    const before = (await (await api('/v1/gateways')).json()) as { items: unknown[] };
    const missing = await post({ name: 'x', transport: 'stdio' });
    expect(missing.status).toBe(400);
    const body = (await missing.json()) as ErrorBody;
    expect(body.error.code).toBe('invalid-input');
    expect(body.error.message).toContain('command');
    expect(body.error.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'command' })]),
    );

    const badTransport = (await (
      await post({ name: 'y', transport: 'carrier-pigeon', url: 'http://x' })
    ).json()) as ErrorBody;
    expect(badTransport.error.message).toContain('transport');
    const notJson = await api('/v1/gateways', { method: 'POST', body: '{nope' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as ErrorBody).error.message).toContain('not valid JSON');

    const after = (await (await api('/v1/gateways')).json()) as { items: unknown[] };
    expect(after.items).toHaveLength(before.items.length);
  });

  it('answers 409 for a duplicate name or a namespace already in use', async () => {
    const duplicate = await post(stdioBody('files'));
    expect(duplicate.status).toBe(409);
    expect(((await duplicate.json()) as ErrorBody).error.message).toContain('"files"');

    const sameNamespace = await post(stdioBody('FILES'));
    expect(sameNamespace.status).toBe(409);
    const body = (await sameNamespace.json()) as ErrorBody;
    expect(body.error.message).toBe('namespace "files" is already used by gateway "files"');
  });

  it('answers 404 with the one error shape for unknown ids and routes', async () => {
    const unknown = await api('/v1/gateways/00000000-0000-0000-0000-000000000000');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as ErrorBody).error).toMatchObject({ code: 'not-found' });
    const patch = await api('/v1/gateways/nope', { method: 'PATCH', body: '{}' });
    expect(patch.status).toBe(404);
    const route = await api('/v1/nothing-here');
    expect(route.status).toBe(404);
    expect(((await route.json()) as ErrorBody).error.code).toBe('not-found');
  });

  it('PATCH changes a gateway, restarts it when its connection changed, and validates the merged result', async () => {
    const created = (await (await post(stdioBody('patchme'))).json()) as GatewayBody;
    await waitReady(created.id);
    const renamed = await api(`/v1/gateways/${created.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ namespace: 'pm' }),
    });
    expect(renamed.status).toBe(200);
    expect(((await renamed.json()) as GatewayBody).version).toBe(2);
    await using client = await connectClient(gateway);
    await waitFor(
      'the new namespace in tools/list',
      async () => (await client.listTools()).tools.some((t) => t.name === 'pm__echo') || undefined,
    );

    const invalid = await api(`/v1/gateways/${created.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ transport: 'streamable-http' }),
    });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as ErrorBody).error.message).toContain('url');
  });

  it('DELETE removes the upstream, its tools, and reaps its process', async () => {
    const created = (await (await post(stdioBody('doomed'))).json()) as GatewayBody;
    await waitReady(created.id);
    await using client = await connectClient(gateway);
    const pid = Number(
      (
        (await client.callTool({ name: 'doomed__pid', arguments: {} })) as {
          content: Array<{ text: string }>;
        }
      ).content[0]!.text,
    );
    expect(isProcessAlive(pid)).toBe(true);
    const removed = await api(`/v1/gateways/${created.id}`, { method: 'DELETE' });
    expect(removed.status, await removed.clone().text()).toBe(204);
    await waitFor('the removed child to exit', () => (!isProcessAlive(pid) ? true : undefined));
    expect((await client.listTools()).tools.some((t) => t.name.startsWith('doomed__'))).toBe(false);
    await expect(
      client.callTool({ name: 'doomed__echo', arguments: { message: 'x' } }),
    ).rejects.toMatchObject({
      code: -32602,
    });
    expect((await api(`/v1/gateways/${created.id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('an unprefixed upstream whose names collide is refused with a clear error in its status', async () => {
    const first = (await (await post(stdioBody('plain-one', { namespace: '' }))).json()) as GatewayBody;
    await waitReady(first.id);
    const second = (await (await post(stdioBody('plain-two', { namespace: '' }))).json()) as GatewayBody;
    const status = await waitReady(second.id);
    expect(status.runtime.conflicts[0]).toContain('tool "echo" of upstream "plain-two" is hidden');
    await using client = await connectClient(gateway);
    const echo = (await client.callTool({ name: 'whoami', arguments: {} })) as {
      content: Array<{ text: string }>;
    };
    expect(echo.content[0]?.text).toBe('plain-one');
  });

  it('/health and /ready answer honestly', async () => {
    expect((await api('/health')).status).toBe(200);
    const ready = await api('/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      checks: { database: { ok: true }, catalog: { ok: true } },
    });
    expect((await api('/health')).headers.get('x-request-id')).toEqual(expect.any(String));
  });
});

describe('audit log', () => {
  it('records admin changes with before/after and tool calls with a hash of the arguments, queryable at /v1/audit', async () => {
    await using config = await testConfig();
    const gateway = await startGateway({ config });
    try {
      const created = await fetch(`${gateway.url}/v1/gateways`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'audited',
          transport: 'stdio',
          ...stdioFixtureCommand('audited'),
          env: { TOKEN: 'hunter2' },
        }),
      });
      const { id } = (await created.json()) as { id: string };
      await waitFor('audited ready', () =>
        gateway.manager.status(id)?.status === 'ready' ? true : undefined,
      );
      await using client = await connectClient(gateway);
      await client.callTool({ name: 'audited__echo', arguments: { message: 'secret-ish' } });

      const changes = (await (
        await fetch(`${gateway.url}/v1/audit?kind=change&entityType=gateway`)
      ).json()) as {
        items: Array<{ action: string; entityId: string; after?: { env?: Record<string, string> } }>;
      };
      expect(changes.items[0]).toMatchObject({ action: 'create', entityId: id });
      expect(JSON.stringify(changes.items)).not.toContain('hunter2');
      const calls = (await (
        await fetch(`${gateway.url}/v1/audit?kind=tool-call&tool=audited__echo`)
      ).json()) as {
        items: Array<{ outcome: string; argumentsHash: string; arguments?: unknown }>;
      };
      expect(calls.items[0]).toMatchObject({
        outcome: 'ok',
        argumentsHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      expect(calls.items[0]?.arguments).toBeUndefined();
      expect((await fetch(`${gateway.url}/v1/audit?kind=nope`)).status).toBe(400);
    } finally {
      await gateway.close();
    }
  });
});
