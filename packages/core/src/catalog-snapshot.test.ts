import { describe, expect, it } from 'vitest';
import { buildCatalogSnapshot, uriTemplateMatcher } from './catalog-snapshot.ts';
import {
  createInMemoryUpstream,
  prompt,
  resource,
  resourceTemplate,
  tool,
} from './in-memory-upstream.test-support.ts';
import { PUBLIC_NAME_PATTERN } from './naming.ts';

describe('buildCatalogSnapshot', () => {
  const github = createInMemoryUpstream({
    id: 'gh',
    name: 'GitHub',
    catalog: {
      tools: [tool('create_issue', { description: 'Opens an issue.' }), tool('search')],
      prompts: [prompt('triage')],
      resources: [resource('file:///README.md')],
      resourceTemplates: [resourceTemplate('repo://{owner}/{name}')],
    },
  });
  const files = createInMemoryUpstream({
    id: 'fs',
    name: 'Files',
    catalog: {
      tools: [tool('search'), tool('read')],
      resources: [resource('file:///README.md')],
    },
  });

  it('keeps the listed object of every unchanged item from one build to the next', () => {
    const members = [
      { upstream: github, namespace: 'github' },
      { upstream: files, namespace: 'files' },
    ];
    const first = buildCatalogSnapshot(members);
    const second = buildCatalogSnapshot(members);
    expect(second.tools).toEqual(first.tools);
    expect(second.tools.every((item, index) => item === first.tools[index])).toBe(true);
    expect(second.resources.every((item, index) => item === first.resources[index])).toBe(true);
    expect(second.resourceTemplates[0]).toBe(first.resourceTemplates[0]);

    // A new override or namespace gives new listed objects with the change applied.
    const overridden = buildCatalogSnapshot([
      {
        upstream: github,
        namespace: 'github',
        overrides: { tools: new Map([['search', { description: 'Finds code.' }]]) },
      },
      { upstream: files, namespace: 'fs' },
    ]);
    expect(overridden.toolsByName.get('github__search')?.description).toBe('Finds code.');
    expect(first.toolsByName.get('github__search')?.description).toBeUndefined();
    expect(overridden.toolsByName.get('fs__read')?.name).toBe('fs__read');
    expect(buildCatalogSnapshot(members).toolsByName.get('github__search')?.description).toBeUndefined();
  });

  it('merges namespaced catalogs in member order with namespaced names and URIs', () => {
    const snapshot = buildCatalogSnapshot(
      [
        { upstream: github, namespace: 'github' },
        { upstream: files, namespace: 'files' },
      ],
      { version: 7 },
    );
    expect(snapshot.version).toBe(7);
    expect(snapshot.tools.map((t) => t.name)).toEqual([
      'github__create_issue',
      'github__search',
      'files__search',
      'files__read',
    ]);
    expect(snapshot.tools[0]).toEqual({
      name: 'github__create_issue',
      description: 'Opens an issue.',
      inputSchema: { type: 'object' },
    });
    expect(snapshot.prompts.map((p) => p.name)).toEqual(['github__triage']);
    expect(snapshot.resources.map((r) => r.uri)).toEqual([
      'mcpgw://github/file:///README.md',
      'mcpgw://files/file:///README.md',
    ]);
    expect(snapshot.resourceTemplates.map((t) => t.uriTemplate)).toEqual([
      'mcpgw://github/repo://{owner}/{name}',
    ]);
    expect(snapshot.conflicts).toEqual([]);
    expect(snapshot.toolRoutes.get('files__search')).toEqual({
      upstream: files,
      namespace: 'files',
      name: 'search',
    });
    expect(snapshot.promptRoutes.get('github__triage')?.name).toBe('triage');
    expect([...snapshot.namespaces.keys()]).toEqual(['github', 'files']);
  });

  it('does not change the upstream catalog it merged', () => {
    buildCatalogSnapshot([{ upstream: github, namespace: 'github' }]);
    expect(github.getCatalog().tools.map((t) => t.name)).toEqual(['create_issue', 'search']);
    expect(github.getCatalog().resources[0]?.uri).toBe('file:///README.md');
  });

  it('uses a custom separator', () => {
    const snapshot = buildCatalogSnapshot([{ upstream: github, namespace: 'github' }], { separator: '.' });
    // A dot is outside the public name pattern, so the name is made safe and hashed.
    for (const t of snapshot.tools) expect(t.name).toMatch(PUBLIC_NAME_PATTERN);
    const dashed = buildCatalogSnapshot([{ upstream: github, namespace: 'github' }], { separator: '-' });
    expect(dashed.tools.map((t) => t.name)).toEqual(['github-create_issue', 'github-search']);
  });

  it('exposes an unprefixed member under its original names and URIs', () => {
    const snapshot = buildCatalogSnapshot([{ upstream: github, namespace: '' }]);
    expect(snapshot.tools.map((t) => t.name)).toEqual(['create_issue', 'search']);
    expect(snapshot.tools[0]).toBe(github.getCatalog().tools[0]);
    expect(snapshot.resources.map((r) => r.uri)).toEqual(['file:///README.md']);
    expect(snapshot.resourceTemplates.map((t) => t.uriTemplate)).toEqual(['repo://{owner}/{name}']);
    expect(snapshot.resourceRoutes.get('file:///README.md')?.upstream).toBe(github);
    expect(snapshot.namespaces.size).toBe(0);
    expect(snapshot.unprefixed).toHaveLength(1);
  });

  it('lets the earlier unprefixed member keep a name and reports the later one as a conflict', () => {
    const snapshot = buildCatalogSnapshot([
      { upstream: github, namespace: '' },
      { upstream: files, namespace: '' },
    ]);
    expect(snapshot.tools.map((t) => t.name)).toEqual(['create_issue', 'search', 'read']);
    expect(snapshot.toolRoutes.get('search')?.upstream).toBe(github);
    expect(snapshot.toolRoutes.get('read')?.upstream).toBe(files);
    expect(snapshot.resources.map((r) => r.uri)).toEqual(['file:///README.md']);
    expect(snapshot.resourceRoutes.get('file:///README.md')?.upstream).toBe(github);

    expect(snapshot.conflicts).toHaveLength(2);
    const [toolConflict, resourceConflict] = snapshot.conflicts;
    expect(toolConflict).toMatchObject({
      kind: 'tool',
      publicName: 'search',
      upstreamId: 'fs',
      ownerId: 'gh',
    });
    expect(toolConflict?.message).toContain('"Files"');
    expect(toolConflict?.message).toContain('"GitHub"');
    expect(toolConflict?.message).toContain('"search"');
    expect(toolConflict?.message).toContain('namespace');
    expect(resourceConflict).toMatchObject({
      kind: 'resource',
      publicName: 'file:///README.md',
      upstreamId: 'fs',
      ownerId: 'gh',
    });
  });

  it('reports prompt and resource template conflicts', () => {
    const other = createInMemoryUpstream({
      id: 'other',
      name: 'Other',
      catalog: {
        prompts: [prompt('triage')],
        resourceTemplates: [resourceTemplate('repo://{owner}/{name}')],
      },
    });
    const snapshot = buildCatalogSnapshot([
      { upstream: github, namespace: '' },
      { upstream: other, namespace: '' },
    ]);
    expect(snapshot.prompts).toHaveLength(1);
    expect(snapshot.promptRoutes.get('triage')?.upstream).toBe(github);
    expect(snapshot.resourceTemplates).toHaveLength(1);
    expect(snapshot.conflicts.map((c) => [c.kind, c.publicName, c.upstreamId, c.ownerId])).toEqual([
      ['prompt', 'triage', 'other', 'gh'],
      ['resource template', 'repo://{owner}/{name}', 'other', 'gh'],
    ]);
    for (const conflict of snapshot.conflicts) {
      expect(conflict.message).toContain('"Other"');
      expect(conflict.message).toContain('"GitHub"');
    }
  });

  it('has no conflicts between a namespaced and an unprefixed member with the same names', () => {
    const snapshot = buildCatalogSnapshot([
      { upstream: github, namespace: '' },
      { upstream: files, namespace: 'files' },
    ]);
    expect(snapshot.conflicts).toEqual([]);
    expect(snapshot.tools.map((t) => t.name)).toEqual([
      'create_issue',
      'search',
      'files__search',
      'files__read',
    ]);
  });

  it('is frozen', () => {
    const snapshot = buildCatalogSnapshot([]);
    expect(Object.isFrozen(snapshot)).toBe(true);
    expect(snapshot.version).toBe(0);
    expect(snapshot.tools).toEqual([]);
  });
});

describe('uriTemplateMatcher', () => {
  it.each([
    ['file:///{path}', 'file:///notes.txt', true],
    ['file:///{path}', 'file:///dir/notes.txt', false],
    ['file:///{+path}', 'file:///dir/notes.txt', true],
    ['repo://{owner}/{name}', 'repo://octo/hello', true],
    ['repo://{owner}/{name}', 'repo://octo', false],
    ['repo://{owner}/{name}', 'repo://octo/hello/extra', false],
    ['fixture://items/{id}', 'fixture://items/', true],
    ['fixture://items/{id}', 'fixture://items/1?x=1', false],
    ['fixture://items/{id}', 'fixture://items/{id}', true],
    ['fixture://items/{id}', 'other://items/1', false],
    ['search://q{?query}', 'search://q?query=a/b', true],
    ['a.b://{x}', 'aXb://1', false],
    ['x://(1)+{y}', 'x://(1)+2', true],
    ['static://no-variables', 'static://no-variables', true],
    ['static://no-variables', 'static://no-variables/more', false],
  ])('%s matches %s: %s', (template, uri, matches) => {
    expect(uriTemplateMatcher(template).test(uri)).toBe(matches);
  });
});

describe('buildCatalogSnapshot namespaces', () => {
  it('refuses a second member with a namespace already in use, so its URIs never reach the wrong upstream', () => {
    const first = createInMemoryUpstream({
      id: 'a1',
      name: 'Alpha',
      catalog: { tools: [tool('t')], resources: [resource('x://1')] },
    });
    const second = createInMemoryUpstream({
      id: 'a2',
      name: 'alpha',
      catalog: { tools: [tool('u')], resources: [resource('x://1')] },
    });
    const snapshot = buildCatalogSnapshot([
      { upstream: first, namespace: 'alpha' },
      { upstream: second, namespace: 'alpha' },
    ]);
    expect(snapshot.tools.map((t) => t.name)).toEqual(['alpha__t']);
    expect(snapshot.resources.map((r) => r.uri)).toEqual(['mcpgw://alpha/x://1']);
    expect(snapshot.namespaces.get('alpha')?.upstream).toBe(first);
    expect(snapshot.conflicts).toEqual([
      expect.objectContaining({
        kind: 'namespace',
        upstreamId: 'a2',
        ownerId: 'a1',
        message: expect.stringContaining('namespace "alpha" is already used by upstream "Alpha"'),
      }),
    ]);
  });
});
