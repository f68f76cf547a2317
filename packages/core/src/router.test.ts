import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RpcError, RpcErrorCode } from './errors.ts';
import {
  createInMemoryUpstream,
  prompt,
  resource,
  resourceTemplate,
  tool,
  type InMemoryUpstream,
} from './in-memory-upstream.test-support.ts';
import type { RpcParams, RpcResult } from './mcp-types.ts';
import { createRouter, GATEWAY_CAPABILITIES, ROUTED_METHODS, type Router } from './router.ts';
import type { CatalogKind } from './upstream.ts';

/** Resolves to the RpcError a call rejected with, or fails the test when it did not reject with one. */
async function rpcErrorOf(promise: Promise<unknown>): Promise<RpcError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RpcError) return error;
    throw error;
  }
  throw new Error('expected the call to fail with an RpcError');
}

/** Every item of a list method, page by page, following nextCursor until it is absent. */
async function listAllPages(router: Router, method: string, key: string): Promise<unknown[][]> {
  const pages: unknown[][] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const result = await router.handle(method, cursor === undefined ? {} : { cursor });
    pages.push(result[key] as unknown[]);
    if (result.nextCursor === undefined) return pages;
    expect(typeof result.nextCursor).toBe('string');
    cursor = result.nextCursor as string;
  }
  throw new Error(`${method} did not stop paginating`);
}

const routers: Router[] = [];
function newRouter(options?: Parameters<typeof createRouter>[0]): Router {
  const router = createRouter(options);
  routers.push(router);
  return router;
}
afterEach(() => {
  for (const router of routers.splice(0)) router.close();
});

describe('createRouter', () => {
  it('rejects an invalid pageSize at creation', () => {
    expect(() => createRouter({ pageSize: 0 })).toThrow(/pageSize/);
    expect(() => createRouter({ pageSize: 1.5 })).toThrow(/pageSize/);
  });

  it('advertises list_changed for every list and routes exactly the list and call methods', () => {
    expect(GATEWAY_CAPABILITIES).toMatchObject({
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { listChanged: true },
    });
    expect(ROUTED_METHODS).toContain('tools/call');
    expect(ROUTED_METHODS).toContain('completion/complete');
  });
});

describe('router lists', () => {
  let a: InMemoryUpstream;
  let b: InMemoryUpstream;
  let router: Router;

  beforeEach(() => {
    a = createInMemoryUpstream({
      id: 'a',
      name: 'Alpha',
      catalog: {
        tools: [tool('echo'), tool('add')],
        prompts: [prompt('greet')],
        resources: [resource('file:///a.txt')],
        resourceTemplates: [resourceTemplate('file:///{name}')],
      },
    });
    b = createInMemoryUpstream({
      id: 'b',
      name: 'Beta',
      catalog: { tools: [tool('echo')], prompts: [prompt('summarize')], resources: [resource('mem://x')] },
    });
    router = newRouter();
    router.setMembers([
      { upstream: a, namespace: 'alpha' },
      { upstream: b, namespace: '' },
    ]);
  });

  it('answers every list from the merged catalog', async () => {
    expect(await router.handle('tools/list', undefined)).toEqual({
      tools: [
        { name: 'alpha__echo', inputSchema: { type: 'object' } },
        { name: 'alpha__add', inputSchema: { type: 'object' } },
        { name: 'echo', inputSchema: { type: 'object' } },
      ],
    });
    expect(await router.handle('prompts/list', {})).toEqual({
      prompts: [{ name: 'alpha__greet' }, { name: 'summarize' }],
    });
    expect(await router.handle('resources/list', {})).toEqual({
      resources: [
        { uri: 'mcpgw://alpha/file:///a.txt', name: 'file:///a.txt' },
        { uri: 'mem://x', name: 'mem://x' },
      ],
    });
    expect(await router.handle('resources/templates/list', {})).toEqual({
      resourceTemplates: [{ uriTemplate: 'mcpgw://alpha/file:///{name}', name: 'file:///{name}' }],
    });
    expect(a.requests).toEqual([]);
    expect(b.requests).toEqual([]);
  });

  it('answers ping', async () => {
    expect(await router.handle('ping', undefined)).toEqual({});
  });

  it('fails an unknown method with -32601', async () => {
    const error = await rpcErrorOf(router.handle('tools/delete', {}));
    expect(error.code).toBe(RpcErrorCode.MethodNotFound);
    expect(error.message).toBe('Method not found: tools/delete');
  });
});

describe('router pagination', () => {
  const many = createInMemoryUpstream({
    id: 'many',
    catalog: {
      tools: ['t0', 't1', 't2', 't3', 't4'].map((name) => tool(name)),
      prompts: ['p0', 'p1', 'p2', 'p3'].map(prompt),
      resources: ['r://0', 'r://1', 'r://2'].map((uri) => resource(uri)),
      resourceTemplates: ['r://t/{a}', 'r://u/{a}'].map((uri) => resourceTemplate(uri)),
    },
  });

  it.each([
    ['tools/list', 'tools', 5],
    ['prompts/list', 'prompts', 4],
    ['resources/list', 'resources', 3],
    ['resources/templates/list', 'resourceTemplates', 2],
  ])('%s walks every item exactly once, two per page', async (method, key, count) => {
    const router = newRouter({ pageSize: 2 });
    router.setMembers([{ upstream: many, namespace: 'm' }]);
    const full = (await newRouterWithDefaultPageSize().handle(method, {}))[key] as unknown[];
    expect(full).toHaveLength(count);

    const pages = await listAllPages(router, method, key);
    expect(pages).toHaveLength(Math.ceil(count / 2));
    for (const page of pages) expect(page.length).toBeLessThanOrEqual(2);
    expect(pages.flat()).toEqual(full);
  });

  function newRouterWithDefaultPageSize(): Router {
    const router = newRouter();
    router.setMembers([{ upstream: many, namespace: 'm' }]);
    return router;
  }

  it('returns no nextCursor when everything fits on one page', async () => {
    const router = newRouter({ pageSize: 5 });
    router.setMembers([{ upstream: many, namespace: 'm' }]);
    const result = await router.handle('tools/list', {});
    expect(result.nextCursor).toBeUndefined();
    expect(result.tools).toHaveLength(5);
  });

  it.each([['garbage'], ['bz0x'], [''], [42], [{}], [Buffer.from('o:-1').toString('base64url')]])(
    'rejects the cursor %j with -32602 Invalid cursor',
    async (cursor) => {
      const router = newRouter({ pageSize: 2 });
      router.setMembers([{ upstream: many, namespace: 'm' }]);
      const error = await rpcErrorOf(router.handle('tools/list', { cursor }));
      expect(error.code).toBe(RpcErrorCode.InvalidParams);
      expect(error.message).toMatch(/^Invalid cursor/);
    },
  );
});

describe('router calls', () => {
  let a: InMemoryUpstream;
  let b: InMemoryUpstream;
  let plain: InMemoryUpstream;
  let router: Router;

  beforeEach(() => {
    a = createInMemoryUpstream({
      id: 'a',
      name: 'Alpha',
      catalog: {
        tools: [tool('echo')],
        prompts: [prompt('greet')],
        resources: [resource('file:///a b')],
        resourceTemplates: [resourceTemplate('file:///{name}')],
      },
    });
    b = createInMemoryUpstream({
      id: 'b',
      name: 'Beta',
      catalog: { tools: [tool('echo'), tool('other.tool')], prompts: [prompt('greet')] },
    });
    plain = createInMemoryUpstream({
      id: 'plain',
      name: 'Plain',
      catalog: {
        tools: [tool('lookup')],
        resources: [resource('docs://index')],
        resourceTemplates: [resourceTemplate('docs://pages/{page}')],
      },
    });
    router = newRouter();
    router.setMembers([
      { upstream: a, namespace: 'alpha' },
      { upstream: b, namespace: 'beta' },
      { upstream: plain, namespace: '' },
    ]);
  });

  it('routes tools/call to the owning upstream with the original name and the arguments unchanged', async () => {
    const result = await router.handle('tools/call', { name: 'beta__echo', arguments: { message: 'hi' } });
    expect(result).toEqual({
      upstream: 'b',
      method: 'tools/call',
      params: { name: 'echo', arguments: { message: 'hi' } },
    });
    expect(a.requests).toEqual([]);
    expect(await router.handle('tools/call', { name: 'lookup' })).toMatchObject({
      upstream: 'plain',
      params: { name: 'lookup' },
    });
  });

  it('routes a sanitised tool name back to the original name', async () => {
    const listed = (await router.handle('tools/list', {})).tools as Array<{ name: string }>;
    const publicName = listed.map((t) => t.name).find((name) => name.startsWith('beta__other_tool'));
    expect(publicName).toBeDefined();
    expect(await router.handle('tools/call', { name: publicName })).toMatchObject({
      upstream: 'b',
      params: { name: 'other.tool' },
    });
  });

  it('routes prompts/get to the owning upstream with the original name', async () => {
    const result = await router.handle('prompts/get', { name: 'alpha__greet', arguments: { who: 'x' } });
    expect(result).toEqual({
      upstream: 'a',
      method: 'prompts/get',
      params: { name: 'greet', arguments: { who: 'x' } },
    });
  });

  it('passes the caller signal and progress callback to the upstream', async () => {
    const controller = new AbortController();
    const onProgress = () => {};
    await router.handle('tools/call', { name: 'alpha__echo' }, { signal: controller.signal, onProgress });
    expect(a.requests[0]?.options?.signal).toBe(controller.signal);
    expect(a.requests[0]?.options?.onProgress).toBe(onProgress);
  });

  it('fails an unknown or missing tool name with -32602 and a clear message', async () => {
    const unknown = await rpcErrorOf(router.handle('tools/call', { name: 'gamma__echo' }));
    expect(unknown.code).toBe(RpcErrorCode.InvalidParams);
    expect(unknown.message).toBe('Unknown tool: gamma__echo');
    // The original name of a namespaced tool is not a public name.
    expect((await rpcErrorOf(router.handle('tools/call', { name: 'echo' }))).message).toBe(
      'Unknown tool: echo',
    );
    const missing = await rpcErrorOf(router.handle('tools/call', { arguments: {} }));
    expect(missing.code).toBe(RpcErrorCode.InvalidParams);
    expect(missing.message).toContain('params.name');
    expect(a.requests.length + b.requests.length + plain.requests.length).toBe(0);
  });

  it('fails an unknown prompt with -32602 and a clear message', async () => {
    const error = await rpcErrorOf(router.handle('prompts/get', { name: 'nope' }));
    expect(error.code).toBe(RpcErrorCode.InvalidParams);
    expect(error.message).toBe('Unknown prompt: nope');
  });

  it('passes an upstream RpcError through unchanged', async () => {
    const failing = createInMemoryUpstream({
      id: 'failing',
      catalog: { tools: [tool('boom')] },
      handle: () => {
        throw new RpcError(-32000, 'upstream said no', { why: 'because' });
      },
    });
    router.setMembers([{ upstream: failing, namespace: 'f' }]);
    const error = await rpcErrorOf(router.handle('tools/call', { name: 'f__boom' }));
    expect(error).toMatchObject({ code: -32000, message: 'upstream said no', data: { why: 'because' } });
  });

  it('reads a namespaced resource from its upstream with the original URI', async () => {
    const result = await router.handle('resources/read', { uri: 'mcpgw://alpha/file:///a b' });
    expect(result).toMatchObject({ upstream: 'a', params: { uri: 'file:///a b' } });
  });

  it('reads any URI under a known namespace from that upstream, templates included', async () => {
    const result = await router.handle('resources/read', { uri: 'mcpgw://alpha/file:///other.txt' });
    expect(result).toMatchObject({ upstream: 'a', params: { uri: 'file:///other.txt' } });
  });

  it('reads resources of an unprefixed member by exact URI and by template match', async () => {
    expect(await router.handle('resources/read', { uri: 'docs://index' })).toMatchObject({
      upstream: 'plain',
      params: { uri: 'docs://index' },
    });
    expect(await router.handle('resources/read', { uri: 'docs://pages/intro' })).toMatchObject({
      upstream: 'plain',
      params: { uri: 'docs://pages/intro' },
    });
  });

  it('picks the unprefixed member whose template matches among several', async () => {
    const other = createInMemoryUpstream({
      id: 'other',
      catalog: { resourceTemplates: [resourceTemplate('notes://{id}')] },
    });
    router.setMembers([
      { upstream: plain, namespace: '' },
      { upstream: other, namespace: '' },
    ]);
    expect(await router.handle('resources/read', { uri: 'notes://7' })).toMatchObject({ upstream: 'other' });
    expect(await router.handle('resources/read', { uri: 'docs://pages/x' })).toMatchObject({
      upstream: 'plain',
    });
    const error = await rpcErrorOf(router.handle('resources/read', { uri: 'unknown://x' }));
    expect(error.code).toBe(RpcErrorCode.ResourceNotFound);
    expect(error.message).toBe('Resource not found: unknown://x');
    expect(error.data).toEqual({ uri: 'unknown://x' });
  });

  it('fails a resource of an unknown namespace with no unprefixed member to try', async () => {
    router.setMembers([{ upstream: a, namespace: 'alpha' }]);
    const error = await rpcErrorOf(router.handle('resources/read', { uri: 'mcpgw://gamma/file:///x' }));
    expect(error.code).toBe(-32602);
    expect(error.data).toEqual({ uri: 'mcpgw://gamma/file:///x' });
    const missing = await rpcErrorOf(router.handle('resources/read', {}));
    expect(missing.code).toBe(-32602);
    expect(missing.message).toContain('params.uri');
  });

  it('routes completion/complete for ref/prompt with the original prompt name', async () => {
    const result = await router.handle('completion/complete', {
      ref: { type: 'ref/prompt', name: 'beta__greet' },
      argument: { name: 'who', value: 'Al' },
    });
    expect(result).toEqual({
      upstream: 'b',
      method: 'completion/complete',
      params: { ref: { type: 'ref/prompt', name: 'greet' }, argument: { name: 'who', value: 'Al' } },
    });
  });

  it('routes completion/complete for ref/resource with the original template URI', async () => {
    expect(
      await router.handle('completion/complete', {
        ref: { type: 'ref/resource', uri: 'mcpgw://alpha/file:///{name}' },
        argument: { name: 'name', value: 'a' },
      }),
    ).toMatchObject({ upstream: 'a', params: { ref: { type: 'ref/resource', uri: 'file:///{name}' } } });
    expect(
      await router.handle('completion/complete', {
        ref: { type: 'ref/resource', uri: 'docs://pages/{page}' },
        argument: { name: 'page', value: 'i' },
      }),
    ).toMatchObject({ upstream: 'plain', params: { ref: { uri: 'docs://pages/{page}' } } });
  });

  it('fails completion/complete without a usable ref with -32602', async () => {
    for (const params of [{}, { ref: { type: 'ref/tool', name: 'x' } }]) {
      const error = await rpcErrorOf(router.handle('completion/complete', params));
      expect(error.code).toBe(RpcErrorCode.InvalidParams);
      expect(error.message).toContain('ref/prompt');
    }
    const unknown = await rpcErrorOf(
      router.handle('completion/complete', { ref: { type: 'ref/prompt', name: 'nope' } }),
    );
    expect(unknown.message).toBe('Unknown prompt: nope');
  });
});

describe('router rewrites resource URIs inside results', () => {
  const content = [
    { type: 'text', text: 'file:///not-a-link' },
    { type: 'resource_link', uri: 'file:///linked', name: 'linked' },
    { type: 'resource', resource: { uri: 'file:///embedded', text: 'inside' } },
  ];
  const handle = (method: string, params: RpcParams | undefined): RpcResult => {
    switch (method) {
      case 'tools/call':
        return { content, isError: false };
      case 'prompts/get':
        return { messages: content.map((c) => ({ role: 'user', content: c })) };
      case 'resources/read':
        return { contents: [{ uri: params?.uri, text: 'body' }] };
      default:
        return {};
    }
  };
  const catalog = {
    tools: [tool('t')],
    prompts: [prompt('p')],
    resources: [resource('file:///r')],
  };

  function routerWith(namespace: string): Router {
    const router = newRouter();
    router.setMembers([{ upstream: createInMemoryUpstream({ id: 'u', catalog, handle }), namespace }]);
    return router;
  }

  it('namespaces resource links and embedded resources of tools/call', async () => {
    const result = await routerWith('ns').handle('tools/call', { name: 'ns__t' });
    expect(result).toEqual({
      isError: false,
      content: [
        { type: 'text', text: 'file:///not-a-link' },
        { type: 'resource_link', uri: 'mcpgw://ns/file:///linked', name: 'linked' },
        { type: 'resource', resource: { uri: 'mcpgw://ns/file:///embedded', text: 'inside' } },
      ],
    });
  });

  it('namespaces resources in prompt messages', async () => {
    const result = await routerWith('ns').handle('prompts/get', { name: 'ns__p' });
    expect((result.messages as Array<{ content: unknown }>).map((m) => m.content)).toEqual([
      { type: 'text', text: 'file:///not-a-link' },
      { type: 'resource_link', uri: 'mcpgw://ns/file:///linked', name: 'linked' },
      { type: 'resource', resource: { uri: 'mcpgw://ns/file:///embedded', text: 'inside' } },
    ]);
  });

  it('namespaces the contents of resources/read, so a read URI can be read again', async () => {
    const router = routerWith('ns');
    const result = await router.handle('resources/read', { uri: 'mcpgw://ns/file:///r' });
    expect(result).toEqual({ contents: [{ uri: 'mcpgw://ns/file:///r', text: 'body' }] });
  });

  it('leaves the results of an unprefixed member untouched', async () => {
    const router = routerWith('');
    expect((await router.handle('tools/call', { name: 't' })).content).toEqual(content);
    expect(await router.handle('resources/read', { uri: 'file:///r' })).toEqual({
      contents: [{ uri: 'file:///r', text: 'body' }],
    });
  });

  it('does not change the upstream result object', async () => {
    await routerWith('ns').handle('tools/call', { name: 'ns__t' });
    expect(content[1]).toEqual({ type: 'resource_link', uri: 'file:///linked', name: 'linked' });
  });
});

describe('router list_changed', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function subscribe(router: Router): Array<readonly CatalogKind[]> {
    const calls: Array<readonly CatalogKind[]> = [];
    router.onListChanged((kinds) => calls.push(kinds));
    return calls;
  }

  it('debounces several catalog changes into one call with the union of kinds', async () => {
    const a = createInMemoryUpstream({ id: 'a' });
    const b = createInMemoryUpstream({ id: 'b' });
    const router = newRouter({ listChangedDebounceMs: 50 });
    router.setMembers([
      { upstream: a, namespace: 'a' },
      { upstream: b, namespace: 'b' },
    ]);
    const calls = subscribe(router);

    a.setCatalog({ tools: [tool('one')] }, ['tools']);
    vi.advanceTimersByTime(20);
    b.setCatalog({ prompts: [prompt('p')] }, ['prompts']);
    a.setCatalog({ tools: [tool('one'), tool('two')] }, ['tools']);
    vi.advanceTimersByTime(20);
    b.setCatalog({ resources: [resource('x://1')] }, ['resources']);
    expect(calls).toEqual([]);
    // The snapshot is rebuilt at once; only the notification waits.
    expect((await router.handle('tools/list', {})).tools).toHaveLength(2);

    vi.advanceTimersByTime(50);
    expect(calls).toHaveLength(1);
    expect([...(calls[0] ?? [])].sort()).toEqual(['prompts', 'resources', 'tools']);

    a.setCatalog({ tools: [] }, ['tools']);
    vi.advanceTimersByTime(50);
    expect(calls).toEqual([expect.anything(), ['tools']]);
  });

  it('emits list_changed when setMembers adds or removes a member, and drops its items', async () => {
    const a = createInMemoryUpstream({ id: 'a', catalog: { tools: [tool('x')] } });
    const b = createInMemoryUpstream({
      id: 'b',
      catalog: { tools: [tool('y')], prompts: [prompt('p')] },
    });
    const router = newRouter({ listChangedDebounceMs: 10 });
    const calls = subscribe(router);
    router.setMembers([
      { upstream: a, namespace: 'a' },
      { upstream: b, namespace: 'b' },
    ]);
    vi.advanceTimersByTime(10);
    expect([...(calls[0] ?? [])].sort()).toEqual(['prompts', 'tools']);
    const versionBefore = router.snapshot().version;

    router.setMembers([{ upstream: a, namespace: 'a' }]);
    expect(router.snapshot().version).toBeGreaterThan(versionBefore);
    expect(await router.handle('tools/list', {})).toEqual({ tools: [tool('a__x')] });
    expect((await rpcErrorOf(router.handle('tools/call', { name: 'b__y' }))).message).toBe(
      'Unknown tool: b__y',
    );
    vi.advanceTimersByTime(10);
    expect(calls).toHaveLength(2);
    expect([...(calls[1] ?? [])].sort()).toEqual(['prompts', 'tools']);

    // The removed member is no longer listened to.
    expect(b.listenerCount()).toBe(0);
    b.setCatalog({ tools: [tool('z')] }, ['tools']);
    vi.advanceTimersByTime(10);
    expect(calls).toHaveLength(2);
  });

  it('does not emit when setMembers is given the same members again', () => {
    const a = createInMemoryUpstream({ id: 'a', catalog: { tools: [tool('x')] } });
    const router = newRouter({ listChangedDebounceMs: 10 });
    router.setMembers([{ upstream: a, namespace: 'a' }]);
    vi.advanceTimersByTime(10);
    const calls = subscribe(router);
    router.setMembers([{ upstream: a, namespace: 'a' }]);
    vi.advanceTimersByTime(10);
    expect(calls).toEqual([]);
    expect(a.listenerCount()).toBe(1);
  });

  it('emits when a member moves to another namespace', async () => {
    const a = createInMemoryUpstream({ id: 'a', catalog: { tools: [tool('x')] } });
    const router = newRouter({ listChangedDebounceMs: 10 });
    router.setMembers([{ upstream: a, namespace: 'a' }]);
    vi.advanceTimersByTime(10);
    const calls = subscribe(router);
    router.setMembers([{ upstream: a, namespace: 'renamed' }]);
    vi.advanceTimersByTime(10);
    expect(calls).toEqual([['tools']]);
    expect(await router.handle('tools/list', {})).toEqual({ tools: [tool('renamed__x')] });
    expect(a.listenerCount()).toBe(1);
  });

  it('rebuilds once for the catalog changes of one tick and stays quiet when a re-list changed nothing', () => {
    const upstreams = Array.from({ length: 20 }, (_, index) => createInMemoryUpstream({ id: `u${index}` }));
    const router = newRouter({ listChangedDebounceMs: 10 });
    router.setMembers(upstreams.map((upstream) => ({ upstream, namespace: upstream.id })));
    vi.advanceTimersByTime(10);
    const calls = subscribe(router);
    const version = router.snapshot().version;

    for (const upstream of upstreams) upstream.setCatalog({ tools: [tool('x')] }, ['tools']);
    vi.advanceTimersByTime(10);
    expect(calls).toEqual([['tools']]);
    expect(router.snapshot().version).toBe(version + 1);
    expect(router.snapshot().tools).toHaveLength(20);

    // The same items again, as new objects: no list_changed.
    upstreams[3]?.setCatalog({ tools: [tool('x')] }, ['tools']);
    vi.advanceTimersByTime(10);
    expect(calls).toHaveLength(1);
    // A changed description at the same place in the list is a change.
    upstreams[3]?.setCatalog({ tools: [tool('x', { description: 'new' })] }, ['tools']);
    vi.advanceTimersByTime(10);
    expect(calls).toEqual([['tools'], ['tools']]);
  });

  it('ignores state changes of members', () => {
    const a = createInMemoryUpstream({ id: 'a', catalog: { tools: [tool('x')] } });
    const router = newRouter({ listChangedDebounceMs: 10 });
    router.setMembers([{ upstream: a, namespace: 'a' }]);
    vi.advanceTimersByTime(10);
    const calls = subscribe(router);
    void a.close();
    vi.advanceTimersByTime(10);
    expect(calls).toEqual([]);
  });

  it('stops notifying after unsubscribe and after close', () => {
    const a = createInMemoryUpstream({ id: 'a' });
    const router = newRouter({ listChangedDebounceMs: 10 });
    router.setMembers([{ upstream: a, namespace: 'a' }]);
    const kept: Array<readonly CatalogKind[]> = [];
    const dropped: Array<readonly CatalogKind[]> = [];
    router.onListChanged((kinds) => kept.push(kinds));
    const unsubscribe = router.onListChanged((kinds) => dropped.push(kinds));
    unsubscribe();
    a.setCatalog({ tools: [tool('x')] }, ['tools']);
    vi.advanceTimersByTime(10);
    expect(kept).toEqual([['tools']]);
    expect(dropped).toEqual([]);

    a.setCatalog({ tools: [] }, ['tools']);
    router.close();
    expect(a.listenerCount()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    a.setCatalog({ tools: [tool('y')] }, ['tools']);
    vi.advanceTimersByTime(10);
    expect(kept).toHaveLength(1);
  });
});

describe('router resource fallback', () => {
  it('sends unlisted URIs to the one unprefixed upstream, but not a mcpgw:// URI with an unknown namespace', async () => {
    const plain = createInMemoryUpstream({ id: 'plain', catalog: { resources: [resource('file:///a')] } });
    const named = createInMemoryUpstream({ id: 'named', catalog: { resources: [resource('file:///a')] } });
    const router = createRouter();
    routers.push(router);
    router.setMembers([
      { upstream: plain, namespace: '' },
      { upstream: named, namespace: 'named' },
    ]);
    const unlisted = await router.handle('resources/read', { uri: 'file:///not-listed' });
    expect(unlisted).toMatchObject({ upstream: 'plain' });
    const typo = await rpcErrorOf(router.handle('resources/read', { uri: 'mcpgw://nmed/file:///a' }));
    expect(typo.code).toBe(RpcErrorCode.ResourceNotFound);
    expect(typo.message).toBe('Resource not found: mcpgw://nmed/file:///a');
  });
});

/** A downstream session held in memory that records what the router sends it. */
function recordingSession(id: string, capabilities: Record<string, unknown> = {}) {
  const notifications: Array<{ method: string; params?: RpcParams }> = [];
  return {
    notifications,
    session: {
      id,
      capabilities: () => capabilities,
      clientInfo: () => ({ name: id, version: '1' }),
      notify: async (method: string, params?: RpcParams) => {
        notifications.push({ method, params });
      },
      request: async (method: string): Promise<RpcResult> => ({ answeredBy: id, method }),
    },
  };
}

describe('router sessions', () => {
  it('sends list_changed to attached sessions and stops after detach', async () => {
    vi.useFakeTimers();
    try {
      const upstream = createInMemoryUpstream({ id: 'u', catalog: { tools: [tool('a')] } });
      const router = createRouter({ listChangedDebounceMs: 10 });
      routers.push(router);
      router.setMembers([{ upstream, namespace: 'u' }]);
      const one = recordingSession('one');
      const two = recordingSession('two');
      router.attachSession(one.session);
      const detachTwo = router.attachSession(two.session);
      detachTwo();
      upstream.setCatalog({ tools: [tool('a'), tool('b')] }, ['tools']);
      await vi.advanceTimersByTimeAsync(20);
      expect(one.notifications).toEqual([{ method: 'notifications/tools/list_changed', params: undefined }]);
      expect(two.notifications).toEqual([]);
      expect(upstream.released).toEqual(['two']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('ref-counts resource subscriptions upstream and sends updates to subscribers only, with public URIs', async () => {
    const upstream = createInMemoryUpstream({ id: 'u', catalog: { resources: [resource('file:///a')] } });
    const router = createRouter();
    routers.push(router);
    router.setMembers([{ upstream, namespace: 'fs' }]);
    const one = recordingSession('one');
    const two = recordingSession('two');
    const other = recordingSession('other');
    router.attachSession(one.session);
    const detachTwo = router.attachSession(two.session);
    router.attachSession(other.session);
    await router.handle('resources/subscribe', { uri: 'mcpgw://fs/file:///a' }, { session: one.session });
    await router.handle('resources/subscribe', { uri: 'mcpgw://fs/file:///a' }, { session: two.session });
    expect(upstream.requests.filter((r) => r.method === 'resources/subscribe')).toHaveLength(1);
    expect(upstream.requests.at(-1)?.params).toEqual({ uri: 'file:///a' });

    upstream.emitNotification({ method: 'notifications/resources/updated', params: { uri: 'file:///a' } });
    expect(one.notifications).toEqual([
      { method: 'notifications/resources/updated', params: { uri: 'mcpgw://fs/file:///a' } },
    ]);
    expect(two.notifications).toHaveLength(1);
    expect(other.notifications).toEqual([]);

    await router.handle('resources/unsubscribe', { uri: 'mcpgw://fs/file:///a' }, { session: one.session });
    expect(upstream.requests.some((r) => r.method === 'resources/unsubscribe')).toBe(false);
    detachTwo();
    await vi.waitFor(() => expect(upstream.requests.at(-1)?.method).toBe('resources/unsubscribe'));
  });

  it('relays log messages to the calling session, filtered by its level', async () => {
    const upstream = createInMemoryUpstream({ id: 'u', catalog: { tools: [tool('t')] } });
    const router = createRouter();
    routers.push(router);
    router.setMembers([{ upstream, namespace: 'u' }]);
    const one = recordingSession('one');
    const two = recordingSession('two');
    router.attachSession(one.session);
    router.attachSession(two.session);
    await router.handle('logging/setLevel', { level: 'warning' }, { session: one.session });
    expect(upstream.requests.find((r) => r.method === 'logging/setLevel')?.params).toEqual({
      level: 'warning',
    });

    upstream.emitNotification({ method: 'notifications/message', params: { level: 'info', data: 'chatty' } });
    upstream.emitNotification({ method: 'notifications/message', params: { level: 'error', data: 'bad' } });
    expect(one.notifications.map((n) => n.params?.data)).toEqual(['bad']);
    expect(two.notifications.map((n) => n.params?.data)).toEqual(['chatty', 'bad']);

    upstream.emitNotification({
      method: 'notifications/message',
      params: { level: 'error', data: 'mine' },
      sessionId: 'two',
    });
    expect(two.notifications.at(-1)?.params?.data).toBe('mine');
    expect(one.notifications.map((n) => n.params?.data)).toEqual(['bad']);
    const invalid = await rpcErrorOf(
      router.handle('logging/setLevel', { level: 'loud' }, { session: one.session }),
    );
    expect(invalid.code).toBe(RpcErrorCode.InvalidParams);
  });

  it('passes the caller to upstreams so server→client requests reach it, and forwards its roots changes', async () => {
    const upstream = createInMemoryUpstream({ id: 'u', catalog: { tools: [tool('t')] } });
    const router = createRouter();
    routers.push(router);
    router.setMembers([{ upstream, namespace: 'u' }]);
    const caller = recordingSession('caller', { sampling: {} });
    router.attachSession(caller.session);
    await router.handle('tools/call', { name: 'u__t' }, { session: caller.session });
    const downstream = upstream.requests.at(-1)?.options?.downstream;
    expect(downstream).toMatchObject({ sessionId: 'caller', capabilities: { sampling: {} } });
    expect(await downstream?.request('sampling/createMessage', {})).toEqual({
      answeredBy: 'caller',
      method: 'sampling/createMessage',
    });
    router.clientNotification(caller.session, 'notifications/roots/list_changed');
    expect(upstream.forwarded).toEqual([
      { method: 'notifications/roots/list_changed', params: undefined, sessionId: 'caller' },
    ]);
  });
});

describe('router hooks', () => {
  it('runs beforeCall and afterCall around forwarded calls; a refusing beforeCall keeps the call from the upstream', async () => {
    const events: string[] = [];
    const upstream = createInMemoryUpstream({
      id: 'u',
      catalog: { tools: [tool('ok'), tool('bad'), tool('blocked')] },
      handle: (method, params) => {
        if (params?.name === 'bad') throw new RpcError(-32050, 'upstream says no');
        return { content: [], isError: params?.name === 'ok' ? undefined : true };
      },
    });
    const router = createRouter({
      hooks: [
        {
          beforeCall: (call) => {
            events.push(`before ${call.method} ${call.name} ${call.upstreamName}`);
            if (call.name === 'u__blocked')
              throw new RpcError(RpcErrorCode.InvalidParams, 'Unknown tool: u__blocked');
          },
          afterCall: (call, outcome) =>
            events.push(
              `after ${call.name} ok=${outcome.ok} code=${outcome.errorCode ?? '-'} ${outcome.durationMs >= 0}`,
            ),
        },
      ],
    });
    routers.push(router);
    router.setMembers([{ upstream, namespace: 'u' }]);
    await router.handle('tools/call', { name: 'u__ok' });
    await rpcErrorOf(router.handle('tools/call', { name: 'u__bad' }));
    await rpcErrorOf(router.handle('tools/call', { name: 'u__blocked' }));
    expect(events).toEqual([
      'before tools/call u__ok u',
      'after u__ok ok=true code=- true',
      'before tools/call u__bad u',
      'after u__bad ok=false code=-32050 true',
      'before tools/call u__blocked u',
    ]);
    expect(upstream.requests.map((r) => r.params?.name)).toEqual(['ok', 'bad']);
  });
});

describe('router overrides and views', () => {
  it('applies aliases, disabled items and description overrides from the member', async () => {
    const upstream = createInMemoryUpstream({
      id: 'u',
      catalog: { tools: [tool('a'), tool('b'), tool('c')], prompts: [prompt('p')] },
    });
    const router = createRouter();
    routers.push(router);
    router.setMembers([
      {
        upstream,
        namespace: 'u',
        overrides: {
          tools: new Map([
            ['a', { alias: 'alpha', description: 'Better words.' }],
            ['b', { enabled: false }],
          ]),
        },
      },
    ]);
    const { tools } = await router.handle('tools/list', {});
    expect(tools).toEqual([
      { name: 'alpha', inputSchema: { type: 'object' }, description: 'Better words.' },
      { name: 'u__c', inputSchema: { type: 'object' } },
    ]);
    await router.handle('tools/call', { name: 'alpha' });
    expect(upstream.requests.at(-1)?.params).toMatchObject({ name: 'a' });
    expect((await rpcErrorOf(router.handle('tools/call', { name: 'u__b' }))).message).toBe(
      'Unknown tool: u__b',
    );
  });

  it('limits a virtual server to its members under their names there', async () => {
    const upstream = createInMemoryUpstream({
      id: 'u',
      catalog: {
        tools: [tool('a'), tool('b')],
        prompts: [prompt('p'), prompt('q')],
        resources: [resource('x://1'), resource('x://2')],
      },
    });
    const router = createRouter();
    routers.push(router);
    router.setMembers([{ upstream, namespace: 'u' }]);
    const view = {
      id: 'vs',
      tools: new Map([['search', 'u__a']]),
      prompts: new Map([['u__q', 'u__q']]),
      resources: new Set(['mcpgw://u/x://2']),
    };
    expect((await router.handle('tools/list', {}, { view })).tools).toEqual([
      { name: 'search', inputSchema: { type: 'object' } },
    ]);
    expect((await router.handle('prompts/list', {}, { view })).prompts).toEqual([{ name: 'u__q' }]);
    expect((await router.handle('resources/list', {}, { view })).resources).toEqual([
      { uri: 'mcpgw://u/x://2', name: 'x://2' },
    ]);
    await router.handle('tools/call', { name: 'search' }, { view });
    expect(upstream.requests.at(-1)?.params).toMatchObject({ name: 'a' });
    expect((await rpcErrorOf(router.handle('tools/call', { name: 'u__b' }, { view }))).message).toBe(
      'Unknown tool: u__b',
    );
    expect((await rpcErrorOf(router.handle('tools/call', { name: 'u__a' }, { view }))).message).toBe(
      'Unknown tool: u__a',
    );
    const outside = await rpcErrorOf(router.handle('resources/read', { uri: 'mcpgw://u/x://1' }, { view }));
    expect(outside.message).toBe('Resource not found: mcpgw://u/x://1');
  });
});
