import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { loadConfigFile } from './config-file.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcp-gateway-config-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function loadError(path: string): Promise<ConfigError> {
  const error: unknown = await loadConfigFile(path).then(
    () => new Error(`expected ${path} to be rejected`),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

const filesystem = {
  name: 'filesystem',
  transport: 'stdio',
  command: 'npx',
  args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'],
  env: {},
  headers: {},
  enabled: true,
  tags: [],
};
const search = {
  name: 'search',
  transport: 'streamable-http',
  url: 'https://mcp.example.com/mcp',
  headers: { Authorization: 'Bearer t' },
  args: [],
  env: {},
  enabled: true,
  tags: [],
};

describe('loadConfigFile', () => {
  it('reads our shape from JSON', async () => {
    const path = await write(
      'gateways.json',
      JSON.stringify({
        gateways: [
          { name: 'filesystem', transport: 'stdio', command: 'npx', args: filesystem.args },
          { name: 'search', transport: 'streamable-http', url: search.url, headers: search.headers },
        ],
      }),
    );
    expect(await loadConfigFile(path)).toEqual({ gateways: [filesystem, search] });
  });

  it('reads our shape from YAML', async () => {
    const path = await write(
      'gateways.yaml',
      [
        'gateways:',
        '  - name: filesystem',
        '    transport: stdio',
        '    command: npx',
        '    args: [-y, "@modelcontextprotocol/server-filesystem", /tmp]',
        '  - name: search',
        '    transport: streamable-http',
        '    url: https://mcp.example.com/mcp',
        '    headers:',
        '      Authorization: Bearer t',
        '    namespace: ""',
        '    timeoutMs: 10000',
        '    tags: [web]',
      ].join('\n'),
    );
    expect(await loadConfigFile(path)).toEqual({
      gateways: [filesystem, { ...search, namespace: '', timeoutMs: 10_000, tags: ['web'] }],
    });
  });

  it('reads Claude Desktop mcpServers', async () => {
    const path = await write(
      'claude_desktop_config.json',
      JSON.stringify({
        globalShortcut: 'Ctrl+Space',
        mcpServers: {
          filesystem: { command: 'npx', args: filesystem.args },
          local: {
            command: 'node',
            args: ['server.js'],
            env: { DEBUG: '1' },
            cwd: '/srv/local',
            disabled: true,
          },
          search: { url: search.url, headers: search.headers },
          typed: { type: 'http', url: 'https://typed.example.com/mcp' },
          legacy: { type: 'sse', url: 'https://legacy.example.com/sse' },
        },
      }),
    );
    expect(await loadConfigFile(path)).toEqual({
      gateways: [
        filesystem,
        {
          ...filesystem,
          name: 'local',
          command: 'node',
          args: ['server.js'],
          env: { DEBUG: '1' },
          cwd: '/srv/local',
          enabled: false,
        },
        search,
        { ...search, name: 'typed', url: 'https://typed.example.com/mcp', headers: {} },
        { ...search, name: 'legacy', transport: 'sse', url: 'https://legacy.example.com/sse', headers: {} },
      ],
    });
  });

  it('merges gateways and mcpServers from one file', async () => {
    const path = await write(
      'both.yml',
      [
        'gateways:',
        '  - { name: search, transport: streamable-http, url: "https://mcp.example.com/mcp" }',
        'mcpServers:',
        '  filesystem: { command: npx }',
      ].join('\n'),
    );
    const { gateways } = await loadConfigFile(path);
    expect(gateways.map((gateway) => [gateway.name, gateway.transport])).toEqual([
      ['search', 'streamable-http'],
      ['filesystem', 'stdio'],
    ]);
  });

  it('detects the format of a file without a known extension', async () => {
    const json = await write(
      'gateways.conf',
      '{"gateways": [{"name": "a", "transport": "stdio", "command": "a"}]}',
    );
    const yaml = await write('gateways', 'gateways:\n  - {name: b, transport: stdio, command: b}\n');
    expect((await loadConfigFile(json)).gateways[0]?.name).toBe('a');
    expect((await loadConfigFile(yaml)).gateways[0]?.name).toBe('b');
  });

  it('accepts an empty gateways list', async () => {
    expect(await loadConfigFile(await write('empty.json', '{"gateways": []}'))).toEqual({ gateways: [] });
  });

  it('rejects invalid YAML, naming the file', async () => {
    const path = await write('broken.yaml', 'gateways:\n  - name: a\n   transport: stdio\n');
    const error = await loadError(path);
    expect(error.code).toBe('config-invalid');
    expect(error.message).toMatch(new RegExp(`^config file ${path}: not valid YAML: \\S`));
    expect(error.message).not.toContain('\n');
    expect(error.message).toMatch(/at line 3, column \d+$/);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('rejects invalid JSON, naming the file', async () => {
    const path = await write('broken.json', '{"gateways": [}');
    expect((await loadError(path)).message).toMatch(new RegExp(`^config file ${path}: not valid JSON: \\S`));
  });

  it('rejects a file that is neither JSON nor YAML', async () => {
    const path = await write('broken.txt', 'a: b: c');
    expect((await loadError(path)).message).toMatch(
      new RegExp(`^config file ${path}: not valid JSON or YAML: \\S`),
    );
  });

  it('names the field path of a missing required field', async () => {
    const path = await write(
      'gw.yaml',
      [
        'gateways:',
        '  - {name: a, transport: stdio, command: a}',
        '  - {name: b, transport: streamable-http}',
      ].join('\n'),
    );
    const error = await loadError(path);
    expect(error.code).toBe('config-invalid');
    expect(error.message).toBe(
      `config file ${path}: gateways.1.url: url is required when transport is "streamable-http"`,
    );
  });

  it('reports every problem, in Claude Desktop terms for mcpServers', async () => {
    const path = await write(
      'claude.json',
      JSON.stringify({
        gateways: [{ name: 'a', transport: 'stdio', command: 'a', colour: 'red' }],
        mcpServers: {
          'bad/name': { command: 'x' },
          remote: { type: 'websocket', url: 'wss://x.example.com' },
          both: { command: 'x', url: 'https://x.example.com' },
          neither: { args: ['x'] },
          off: { command: 'x', disabled: 'yes', autoApprove: [] },
          sse: { type: 'sse' },
        },
      }),
    );
    expect((await loadError(path)).message).toBe(
      `config file ${path}: ` +
        [
          'gateways.0.colour: unknown field',
          'mcpServers.bad/name: name must start with a letter or digit and contain only letters, digits, spaces, ".", "_" and "-"',
          'mcpServers.remote.type: type must be one of "stdio", "http", "streamable-http", "sse"',
          'mcpServers.both.url: url is not allowed when transport is "stdio"',
          'mcpServers.neither: needs either "command" (a local stdio server) or "url" (a remote server)',
          'mcpServers.off.disabled: disabled must be true or false',
          'mcpServers.off.autoApprove: unknown field',
          'mcpServers.sse.url: url is required when transport is "sse"',
        ].join('; '),
    );
  });

  it('rejects a file with neither gateways nor mcpServers', async () => {
    const path = await write('other.json', '{"servers": []}');
    expect((await loadError(path)).message).toBe(
      `config file ${path}: expected an object with "gateways" (a list) and/or "mcpServers" (an object keyed by server name)`,
    );
    const empty = await write('empty.yaml', '');
    expect((await loadError(empty)).message).toBe(
      `config file ${empty}: expected an object with "gateways" (a list) and/or "mcpServers" (an object keyed by server name)`,
    );
  });

  it('rejects gateways that is not a list', async () => {
    const path = await write('gw.yaml', 'gateways:\n  name: a\n');
    expect((await loadError(path)).message).toBe(`config file ${path}: gateways: gateways must be a list`);
  });

  it('rejects duplicate names, naming the name and both places', async () => {
    const path = await write(
      'dup.json',
      JSON.stringify({
        gateways: [{ name: 'files', transport: 'stdio', command: 'a' }],
        mcpServers: { files: { command: 'b' } },
      }),
    );
    const error = await loadError(path);
    expect(error.code).toBe('config-invalid');
    expect(error.message).toBe(
      `config file ${path}: duplicate gateway name "files" (gateways.0 and mcpServers.files)`,
    );
  });

  it('treats names as equal after trimming', async () => {
    const path = await write(
      'dup.yaml',
      'gateways:\n  - {name: files, transport: stdio, command: a}\n  - {name: " files ", transport: stdio, command: b}\n',
    );
    expect((await loadError(path)).message).toContain(
      'duplicate gateway name "files" (gateways.0 and gateways.1)',
    );
  });

  it('rejects a missing file as unreadable, naming the path', async () => {
    const path = join(dir, 'missing.yaml');
    const error = await loadError(path);
    expect(error.code).toBe('config-unreadable');
    expect(error.message).toMatch(new RegExp(`^config file ${path}: cannot read: ENOENT`));
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('rejects a directory as unreadable', async () => {
    const error = await loadError(dir);
    expect(error.code).toBe('config-unreadable');
    expect(error.message).toMatch(new RegExp(`^config file ${dir}: cannot read: EISDIR`));
  });
});
