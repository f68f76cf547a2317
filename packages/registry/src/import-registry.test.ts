import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from './database.ts';
import { exportRegistry } from './export-registry.ts';
import { createGatewayStore } from './gateway-store.ts';
import { importRegistry } from './import-registry.ts';
import { loadRegistry } from './load-registry.ts';
import { createPromptStore } from './prompt-store.ts';
import { RegistryError } from './registry-error.ts';
import type { RegistryDocument } from './registry-document.ts';
import { createResourceStore } from './resource-store.ts';
import { dialects, emptyRegistry, openTestDatabase } from './test-database.test-support.ts';
import { createToolStore } from './tool-store.ts';
import { createVirtualServerStore } from './virtual-server-store.ts';

const schema = { type: 'object' as const };

/** A registry with one of everything, built through the stores as the app would. */
async function populate(database: Database): Promise<void> {
  const options = { db: database.db };
  const gateways = createGatewayStore(options);
  const tools = createToolStore(options);
  const resources = createResourceStore(options);
  const prompts = createPromptStore(options);
  const servers = createVirtualServerStore(options);

  const github = await gateways.create({
    name: 'github',
    transport: 'streamable-http',
    url: 'https://gh.example/mcp',
    headers: { authorization: 'Bearer s3cret' },
    tags: ['dev'],
  });
  await gateways.create({
    name: 'files',
    transport: 'stdio',
    command: 'mcp-files',
    args: ['/srv'],
    namespace: '',
  });
  await tools.syncDiscovered(github.id, [
    { name: 'create_issue', description: 'Open an issue', inputSchema: schema },
    { name: 'search', inputSchema: schema },
  ]);
  await prompts.syncDiscovered(github.id, [{ name: 'triage' }]);
  await resources.syncDiscovered(github.id, [
    { uri: 'repo://readme', name: 'README' },
    { uriTemplate: 'repo://issues/{n}', name: 'Issue' },
  ]);
  const [createIssue, search] = (await tools.list({ gatewayId: github.id })).items.sort((a, b) =>
    a.originalName < b.originalName ? -1 : 1,
  );
  await tools.update(createIssue!.id, {
    alias: 'open_ticket',
    descriptionOverride: 'Open a ticket',
    annotationsOverride: { destructiveHint: false },
    tags: ['support'],
  });
  await tools.update(search!.id, { enabled: false });
  const weather = await tools.create({
    definition: { name: 'weather', inputSchema: schema },
    integration: 'rest',
    integrationConfig: { url: 'https://api.example/weather', method: 'GET' },
    tags: ['support', 'ext'],
  });
  const handbook = await resources.create({
    definition: { uri: 'docs://handbook', name: 'Handbook' },
    localContent: { text: '# Handbook' },
  });
  const review = await prompts.create({
    definition: { name: 'review', description: 'Review code' },
    template: {
      messages: [{ role: 'user', text: 'Review {{code}}' }],
      arguments: [{ name: 'code', required: true }],
    },
  });
  const readme = (await resources.list({ search: 'readme' })).items[0]!;
  await servers.create({
    name: 'support desk',
    description: 'For the support team',
    icon: 'https://icons.example/desk.svg',
    tags: ['support'],
    members: [
      { kind: 'tool', id: createIssue!.id, alias: 'ticket' },
      { kind: 'tool', id: weather.id },
      { kind: 'resource', id: readme.id },
      { kind: 'resource', id: handbook.id, alias: 'desk://handbook' },
      { kind: 'prompt', id: review.id },
    ],
  });
}

async function counts(database: Database): Promise<Record<string, number>> {
  const contents = await loadRegistry(database.db);
  return Object.fromEntries(Object.entries(contents).map(([key, rows]) => [key, rows.length]));
}

for (const dialect of dialects) {
  describe(`import and export on ${dialect}`, () => {
    let source: Database;
    let target: Database;

    beforeAll(async () => {
      [source, target] = await Promise.all([openTestDatabase(dialect), openTestDatabase(dialect)]);
    });
    afterAll(async () => {
      await Promise.all([source?.close(), target?.close()]);
    });
    beforeEach(async () => {
      await Promise.all([emptyRegistry(source), emptyRegistry(target)]);
    });

    it('exports a portable document and imports it into an empty registry, identically', async () => {
      await populate(source);
      const document = await exportRegistry(source.db);
      expect(document.gateways.map((gateway) => gateway.name)).toEqual(['files', 'github']);
      expect(document.gateways[1]).toEqual({
        name: 'github',
        transport: 'streamable-http',
        args: [],
        env: {},
        url: 'https://gh.example/mcp',
        headers: { authorization: 'Bearer s3cret' }, // secrets as stored; the API masks them
        enabled: true,
        tags: ['dev'],
      });
      expect(document.tools.map((tool) => [tool.gateway, tool.name])).toEqual([
        [undefined, 'weather'],
        ['github', 'create_issue'],
        ['github', 'search'],
      ]);
      expect(document.virtualServers).toEqual([
        {
          name: 'support desk',
          description: 'For the support team',
          icon: 'https://icons.example/desk.svg',
          enabled: true,
          tags: ['support'],
          members: [
            { kind: 'tool', gateway: 'github', name: 'create_issue', alias: 'ticket' },
            { kind: 'tool', name: 'weather' },
            { kind: 'resource', gateway: 'github', uri: 'repo://readme' },
            { kind: 'resource', uri: 'docs://handbook', alias: 'desk://handbook' },
            { kind: 'prompt', name: 'review' },
          ],
        },
      ]);
      const json = JSON.stringify(document);
      expect(json).not.toMatch(/"id"|createdAt|updatedAt|"version":[^1]/);

      const entries = 2 + 3 + 3 + 2 + 1;
      expect(await importRegistry(target.db, JSON.parse(json), { mode: 'replace' })).toEqual({
        created: entries,
        updated: 0,
        deleted: 0,
        unchanged: 0,
      });
      expect(await exportRegistry(target.db)).toEqual(JSON.parse(json));
      expect(await counts(target)).toEqual(await counts(source));
      expect((await loadRegistry(target.db)).virtualServers[0]?.missingMembers).toEqual([]);

      // Idempotent, in both modes and on the source itself, even with a member gone missing since the export.
      const unchanged = { created: 0, updated: 0, deleted: 0, unchanged: entries };
      expect(await importRegistry(target.db, JSON.parse(json), { mode: 'replace' })).toEqual(unchanged);
      expect(await importRegistry(target.db, JSON.parse(json), { mode: 'merge' })).toEqual(unchanged);
      expect(await importRegistry(source.db, document, { mode: 'replace' })).toEqual(unchanged);
      const github = (await loadRegistry(target.db)).gateways.find((gateway) => gateway.name === 'github')!;
      await createPromptStore({ db: target.db }).syncDiscovered(github.id, []); // drops triage (not a member)
      await createResourceStore({ db: target.db }).syncDiscovered(github.id, []); // drops repo://readme (a member)
      const [desk] = (await loadRegistry(target.db)).virtualServers;
      expect(desk?.missingMembers.map((member) => member.kind)).toEqual(['resource']);
      const exported = await exportRegistry(target.db);
      expect(exported.virtualServers[0]?.members).toHaveLength(4);
      expect(await importRegistry(target.db, exported, { mode: 'replace' })).toEqual({
        ...unchanged,
        unchanged: entries - 3,
      });
      expect((await loadRegistry(target.db)).virtualServers[0]?.missingMembers).toHaveLength(1);
    });

    it('creates discovered items from overrides alone; a later sync fills in the definition and keeps them', async () => {
      const result = await importRegistry(
        target.db,
        {
          version: 1,
          gateways: [{ name: 'github', transport: 'sse', url: 'https://gh.example/sse' }],
          tools: [{ gateway: 'github', name: 'delete_repo', enabled: false, tags: ['danger'] }],
          virtualServers: [
            { name: 'safe', members: [{ kind: 'tool', gateway: 'github', name: 'delete_repo' }] },
          ],
        },
        { mode: 'merge', actor: 'ci' },
      );
      expect(result).toEqual({ created: 3, updated: 0, deleted: 0, unchanged: 0 });
      const { gateways, tools } = await loadRegistry(target.db);
      expect(tools[0]).toMatchObject({
        definition: { name: 'delete_repo', inputSchema: { type: 'object' } },
        enabled: false,
        createdBy: 'ci',
      });
      await createToolStore({ db: target.db }).syncDiscovered(gateways[0]!.id, [
        { name: 'delete_repo', description: 'Deletes a repository', inputSchema: schema },
      ]);
      const [synced] = (await loadRegistry(target.db)).tools;
      expect(synced).toMatchObject({
        id: tools[0]!.id,
        definition: { description: 'Deletes a repository' },
        enabled: false,
        tags: ['danger'],
      });
    });

    it('merges or replaces: replace deletes what is unlisted and resets unlisted discovered items', async () => {
      await populate(target);
      const document: RegistryDocument = {
        version: 1,
        gateways: [{ name: 'github', transport: 'streamable-http', url: 'https://gh.example/mcp' }],
        tools: [],
        resources: [],
        prompts: [],
        virtualServers: [],
      };
      // Merge: only github changes (headers and tags back to defaults).
      expect(await importRegistry(target.db, document, { mode: 'merge' })).toEqual({
        created: 0,
        updated: 1,
        deleted: 0,
        unchanged: 0,
      });
      expect(await counts(target)).toEqual({
        gateways: 2,
        tools: 3,
        resources: 3,
        prompts: 2,
        virtualServers: 1,
      });

      // Replace: files, the local tool/resource/prompt and the virtual server go; github's items stay but lose
      // their overrides (create_issue's alias and tags, search's enabled: false).
      expect(await importRegistry(target.db, document, { mode: 'replace' })).toEqual({
        created: 0,
        updated: 2,
        deleted: 5,
        unchanged: 1,
      });
      const after = await loadRegistry(target.db);
      expect(after.gateways.map((gateway) => gateway.name)).toEqual(['github']);
      expect(after.virtualServers).toEqual([]);
      expect(
        after.tools.map((tool) => [tool.originalName, tool.enabled, tool.alias ?? null, tool.tags]),
      ).toEqual(
        expect.arrayContaining([
          ['create_issue', true, null, []],
          ['search', true, null, []],
        ]),
      );
      expect(after.tools).toHaveLength(2);
      expect(await importRegistry(target.db, document, { mode: 'replace' })).toEqual({
        created: 0,
        updated: 0,
        deleted: 0,
        unchanged: 1,
      });
    });

    it('swaps two aliases in one import', async () => {
      const local = (name: string, alias: string) => ({
        name,
        alias,
        definition: { name, inputSchema: schema },
      });
      await importRegistry(
        target.db,
        { version: 1, tools: [local('a', 'first'), local('b', 'second')] },
        { mode: 'merge' },
      );
      expect(
        await importRegistry(
          target.db,
          { version: 1, tools: [local('a', 'second'), local('b', 'first')] },
          { mode: 'merge' },
        ),
      ).toEqual({ created: 0, updated: 2, deleted: 0, unchanged: 0 });
      const tools = (await loadRegistry(target.db)).tools.map((tool) => [
        tool.originalName,
        tool.alias,
        tool.version,
      ]);
      expect(tools.sort()).toEqual([
        ['a', 'second', 2],
        ['b', 'first', 2],
      ]);
    });

    it('reports every bad entry with its path and changes nothing', async () => {
      await populate(target);
      const before = await exportRegistry(target.db);
      const error = await importRegistry(
        target.db,
        {
          version: 1,
          extra: true,
          gateways: [
            { name: 'ok', transport: 'stdio', command: 'x' },
            { name: 'ok', transport: 'stdio', command: 'y' },
            { name: ' bad', transport: 'ftp' },
            { name: 'web', transport: 'sse', command: 'x', url: 'file:///etc/passwd' },
          ],
          tools: [
            { name: 'local_without_definition' },
            { gateway: 'nowhere', name: 'x' },
            { name: 'mismatch', definition: { name: 'other', inputSchema: schema } },
            { gateway: 'ok', name: 'aliased', alias: 'open_ticket' }, // held by github's create_issue (merge)
            { gateway: 'ok', name: 'typo', enabeld: false },
          ],
          resources: [{ gateway: 'ok', uri: 'x://y', localContent: { text: 'no' } }],
          prompts: [{ name: 'empty' }],
          virtualServers: [
            {
              name: 'vs',
              members: [
                { kind: 'tool', gateway: 'github', name: 'no_such_tool' },
                { kind: 'resource', name: 'not-a-uri-field' },
                { kind: 'tool', name: 'local_without_definition' }, // malformed entry above: not reported twice
              ],
            },
          ],
        },
        { mode: 'merge' },
      ).catch((e) => e);
      expect(error).toBeInstanceOf(RegistryError);
      expect(error.code).toBe('invalid-input');
      expect(error.message).toMatch(/^invalid registry document: /);
      expect(error.details).toEqual([
        { path: 'extra', message: 'unknown field' },
        { path: 'gateways.1.name', message: 'gateway "ok" is listed twice' },
        {
          path: 'gateways.2.name',
          message:
            'must start with a letter or digit and contain only letters, digits, spaces, ".", "_" and "-"',
        },
        {
          path: 'gateways.2.transport',
          message: 'must be one of "stdio", "streamable-http", "sse", "websocket"',
        },
        { path: 'gateways.3.command', message: 'is not allowed when transport is "sse"' },
        { path: 'gateways.3.url', message: 'must be an http(s):// or ws(s):// URL' },
        { path: 'tools.0.definition', message: 'is required for a local tool (one without gateway)' },
        { path: 'tools.1.gateway', message: 'no gateway named "nowhere" in the document or the registry' },
        { path: 'tools.2.definition.name', message: 'must equal the entry’s name' },
        { path: 'tools.3.alias', message: 'another tool already has the alias "open_ticket"' },
        { path: 'tools.4.enabeld', message: 'unknown field' },
        { path: 'resources.0.localContent', message: 'only local concrete resources have content' },
        { path: 'prompts.0.definition', message: 'a local prompt needs a definition or a template' },
        { path: 'virtualServers.0.members.1.name', message: 'is not used for a resource; use uri' },
        { path: 'virtualServers.0.members.1.uri', message: 'is required for a resource' },
      ]);
      expect(await exportRegistry(target.db)).toEqual(before);

      // Once the structure is right, unresolved members are reported too.
      const unresolved = await importRegistry(
        target.db,
        {
          version: 1,
          virtualServers: [
            { name: 'vs', members: [{ kind: 'tool', gateway: 'github', name: 'no_such_tool' }] },
          ],
        },
        { mode: 'merge' },
      ).catch((e) => e);
      expect(unresolved.details).toEqual([
        {
          path: 'virtualServers.0.members.0',
          message: 'no tool "no_such_tool" (on gateway "github") in the document or the registry',
        },
      ]);
      await expect(importRegistry(target.db, [], { mode: 'merge' })).rejects.toMatchObject({
        details: [{ path: '(root)', message: 'must be an object' }],
      });
      await expect(importRegistry(target.db, before, { mode: 'upsert' as 'merge' })).rejects.toMatchObject({
        code: 'invalid-input',
        details: [{ path: 'mode', message: 'must be "merge" or "replace"' }],
      });
    });

    it('rolls everything back when the database fails halfway, and nobody sees the partial import', async () => {
      await populate(target);
      const before = await exportRegistry(target.db);
      const gateways = createGatewayStore({ db: target.db });
      // Passes validation; Postgres and PGlite both refuse \u0000 in jsonb, and only when the last tool is written,
      // after the new gateway, the updated one and the first tools.
      const document = {
        ...before,
        gateways: [...before.gateways, { name: 'new-one', transport: 'stdio', command: 'x' }].map(
          (gateway) => (gateway.name === 'files' ? { ...gateway, enabled: false } : gateway),
        ),
        tools: [
          ...before.tools,
          {
            name: 'poison',
            definition: { name: 'poison', description: 'nul \u0000 here', inputSchema: schema },
          },
        ],
      };
      const importing = importRegistry(target.db, document, { mode: 'replace' });
      const concurrent = gateways.list(); // issued while the import runs
      const error = await importing.catch((e) => e);
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(RegistryError);
      expect(error.code).toBe('22P05'); // untranslatable character / unsupported Unicode escape
      expect((await concurrent).map((gateway) => [gateway.name, gateway.enabled])).toEqual([
        ['files', true],
        ['github', true],
      ]);
      expect(await exportRegistry(target.db)).toEqual(before);
      // The connection is usable afterwards (no transaction left open).
      const { poison: _poison, ...clean } = { ...document, tools: before.tools, poison: true };
      expect(await importRegistry(target.db, clean, { mode: 'replace' })).toMatchObject({
        created: 1,
        updated: 1,
      });
    });
  });
}
