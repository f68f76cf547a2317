import { describe, expect, it } from 'vitest';
import {
  applyGatewayPatch,
  formatZodIssues,
  gatewayInputSchema,
  gatewayPatchSchema,
} from './gateway-input.ts';
import type { GatewayInput } from './gateway-input.ts';

function issuesOf(input: unknown) {
  const result = gatewayInputSchema.safeParse(input);
  if (result.success) throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
  return formatZodIssues(result.error);
}

const stdio = {
  name: 'files',
  transport: 'stdio',
  command: 'npx',
  args: ['-y', '@modelcontextprotocol/server-filesystem'],
};
const http = { name: 'search', transport: 'streamable-http', url: 'https://mcp.example.com/mcp' };

describe('gatewayInputSchema', () => {
  it('accepts a stdio server and fills in the defaults', () => {
    expect(gatewayInputSchema.parse(stdio)).toEqual({
      ...stdio,
      env: {},
      headers: {},
      enabled: true,
      tags: [],
    });
  });

  it('accepts a header allowlist for HTTP upstreams only, and never credentials in it', () => {
    expect(
      gatewayInputSchema.parse({ ...http, passthroughHeaders: ['X-Tenant', 'x-request-*'] })
        .passthroughHeaders,
    ).toEqual(['X-Tenant', 'x-request-*']);
    expect(
      issuesOf({ ...http, passthroughHeaders: ['x-tenant', 'Proxy-Authorization', '*'] }).details,
    ).toEqual([
      {
        path: 'passthroughHeaders.1',
        message: `"Proxy-Authorization" carries the client's credentials and is never forwarded; set the upstream's own credentials in "headers"`,
      },
      {
        path: 'passthroughHeaders.2',
        message: '"*" is not a header name (a name, or a prefix ending in "*" such as "x-tenant-*")',
      },
    ]);
    expect(issuesOf({ ...stdio, passthroughHeaders: ['x-tenant'] }).details).toEqual([
      { path: 'passthroughHeaders', message: 'passthroughHeaders is not allowed when transport is "stdio"' },
    ]);
    expect(
      issuesOf({
        ...http,
        transport: 'websocket',
        url: 'wss://mcp.example.com/ws',
        passthroughHeaders: ['x-a'],
      }).details,
    ).toEqual([
      {
        path: 'passthroughHeaders',
        message: 'passthroughHeaders is not allowed when transport is "websocket"',
      },
    ]);
  });

  it('accepts an HTTP server with every optional field', () => {
    const input = {
      ...http,
      transport: 'sse',
      headers: { Authorization: 'Bearer x' },
      namespace: 'search_v2',
      enabled: false,
      timeoutMs: 5000,
      tags: ['prod'],
    };
    expect(gatewayInputSchema.parse(input)).toEqual({ ...input, args: [], env: {} });
  });

  it('trims the name and accepts an empty namespace (no prefix)', () => {
    const parsed = gatewayInputSchema.parse({ ...stdio, name: '  My Server 1.0  ', namespace: '' });
    expect(parsed.name).toBe('My Server 1.0');
    expect(parsed.namespace).toBe('');
  });

  it('requires command for stdio, on the command path', () => {
    expect(issuesOf({ name: 'x', transport: 'stdio' })).toEqual({
      message: 'invalid request: command: command is required when transport is "stdio"',
      details: [{ path: 'command', message: 'command is required when transport is "stdio"' }],
    });
  });

  it('forbids url and headers for stdio', () => {
    expect(issuesOf({ ...stdio, url: 'https://x.example.com', headers: { 'X-Key': 'k' } }).details).toEqual([
      { path: 'url', message: 'url is not allowed when transport is "stdio"' },
      { path: 'headers', message: 'headers is not allowed when transport is "stdio"' },
    ]);
  });

  it('requires url for the HTTP transports', () => {
    expect(issuesOf({ name: 'x', transport: 'streamable-http' }).message).toBe(
      'invalid request: url: url is required when transport is "streamable-http"',
    );
    expect(issuesOf({ name: 'x', transport: 'sse' }).message).toBe(
      'invalid request: url: url is required when transport is "sse"',
    );
  });

  it('forbids command, args, env and cwd for the HTTP transports', () => {
    expect(issuesOf({ ...http, command: 'node', args: ['x'], env: { A: '1' }, cwd: '/tmp' }).details).toEqual(
      [
        { path: 'command', message: 'command is not allowed when transport is "streamable-http"' },
        { path: 'args', message: 'args is not allowed when transport is "streamable-http"' },
        { path: 'env', message: 'env is not allowed when transport is "streamable-http"' },
        { path: 'cwd', message: 'cwd is not allowed when transport is "streamable-http"' },
      ],
    );
  });

  it('rejects unknown fields, each on its own path', () => {
    expect(issuesOf({ ...stdio, comand: 'x', extra: 1 }).details).toEqual([
      { path: 'comand', message: 'unknown field' },
      { path: 'extra', message: 'unknown field' },
    ]);
  });

  it.each([
    [{ transport: 'stdio', command: 'x' }, 'name: name is required'],
    [{ ...stdio, name: '   ' }, 'name: name must not be empty'],
    [{ ...stdio, name: 'x'.repeat(101) }, 'name: name must be at most 100 characters'],
    [
      { ...stdio, name: '-files' },
      'name: name must start with a letter or digit and contain only letters, digits, spaces, ".", "_" and "-"',
    ],
    [
      { ...stdio, name: 'a/b' },
      'name: name must start with a letter or digit and contain only letters, digits, spaces, ".", "_" and "-"',
    ],
    [{ name: 'x', command: 'x' }, 'transport: transport is required'],
    [
      { ...stdio, transport: 'carrier-pigeon' },
      'transport: transport must be one of "stdio", "streamable-http", "sse", "websocket"',
    ],
    [{ ...http, url: 'ftp://example.com/x' }, 'url: url must be an http(s):// URL (ws(s):// for websocket)'],
    [{ ...http, url: 'not a url' }, 'url: url must be an http(s):// URL (ws(s):// for websocket)'],
    [
      { ...http, url: 'ws://example.com/x' },
      'url: url must be an http:// or https:// URL when transport is "streamable-http"',
    ],
    [
      { ...stdio, namespace: 'has space' },
      'namespace: namespace must be empty (no prefix) or 1 to 32 letters, digits, "_" or "-"',
    ],
    [
      { ...stdio, namespace: 'x'.repeat(33) },
      'namespace: namespace must be empty (no prefix) or 1 to 32 letters, digits, "_" or "-"',
    ],
    [
      { ...stdio, namespace: 'a__b' },
      'namespace: namespace must not contain "__" (the separator) or end with "_"',
    ],
    [
      { ...stdio, namespace: 'files_' },
      'namespace: namespace must not contain "__" (the separator) or end with "_"',
    ],
    [
      { ...stdio, timeoutMs: 99 },
      'timeoutMs: timeoutMs must be a whole number of milliseconds from 100 to 600000',
    ],
    [
      { ...stdio, timeoutMs: 600_001 },
      'timeoutMs: timeoutMs must be a whole number of milliseconds from 100 to 600000',
    ],
    [
      { ...stdio, timeoutMs: 1000.5 },
      'timeoutMs: timeoutMs must be a whole number of milliseconds from 100 to 600000',
    ],
    [{ ...stdio, timeoutMs: '1000' }, 'timeoutMs: timeoutMs must be a number'],
    [{ ...stdio, args: 'a b' }, 'args: args must be a list of strings'],
    [{ ...stdio, args: ['a', 1] }, 'args.1: args must be a list of strings'],
    [{ ...stdio, env: { A: 1 } }, 'env.A: env values must be strings'],
    [
      { ...http, headers: { 'Bad Header': 'x' } },
      'headers.Bad Header: header names must be valid HTTP header names',
    ],
    [
      { ...http, headers: { 'X-A': 'a\r\nX-B: b' } },
      'headers.X-A: header values must not contain line breaks or NUL characters',
    ],
    [{ ...stdio, enabled: 'yes' }, 'enabled: enabled must be true or false'],
    [{ ...stdio, tags: [''] }, 'tags.0: tags must not be empty strings'],
  ])('rejects %j: %s', (input, message) => {
    expect(issuesOf(input).message).toBe(`invalid request: ${message}`);
  });

  it('uses the given prefix for the message', () => {
    const result = gatewayInputSchema.safeParse({ name: 'x', transport: 'stdio' });
    expect(result.success).toBe(false);
    if (!result.success) {
      expect(formatZodIssues(result.error, 'config file gw.json').message).toBe(
        'config file gw.json: command: command is required when transport is "stdio"',
      );
    }
  });
});

describe('gatewayPatchSchema and applyGatewayPatch', () => {
  const current: GatewayInput = gatewayInputSchema.parse({
    ...stdio,
    env: { ROOT: '/data' },
    timeoutMs: 5000,
  });

  it('accepts an empty patch and leaves the gateway unchanged', () => {
    const patch = gatewayPatchSchema.parse({});
    expect(applyGatewayPatch(current, patch)).toEqual({ success: true, data: current });
  });

  it('applies the same per-field rules, without defaults', () => {
    expect(gatewayPatchSchema.parse({ enabled: false })).toEqual({ enabled: false });
    const result = gatewayPatchSchema.safeParse({ name: '!bad', timeoutMs: 5, color: 'red' });
    expect(result.success).toBe(false);
    if (!result.success) {
      expect(formatZodIssues(result.error).details.map((detail) => detail.path)).toEqual([
        'name',
        'timeoutMs',
        'color',
      ]);
    }
  });

  it('merges the patch over the current gateway', () => {
    const patch = gatewayPatchSchema.parse({ args: ['--verbose'], enabled: false, tags: ['dev'] });
    expect(applyGatewayPatch(current, patch)).toEqual({
      success: true,
      data: { ...current, args: ['--verbose'], enabled: false, tags: ['dev'] },
    });
  });

  it('fails when switching to stdio without a command, naming command', () => {
    const remote = gatewayInputSchema.parse(http);
    const result = applyGatewayPatch(remote, gatewayPatchSchema.parse({ transport: 'stdio', url: null }));
    expect(result.success).toBe(false);
    if (!result.success) {
      expect(formatZodIssues(result.error)).toEqual({
        message: 'invalid request: command: command is required when transport is "stdio"',
        details: [{ path: 'command', message: 'command is required when transport is "stdio"' }],
      });
    }
  });

  it('fails when switching transport but leaving the old transport fields in place', () => {
    const result = applyGatewayPatch(
      current,
      gatewayPatchSchema.parse({ transport: 'sse', url: 'https://x.example.com' }),
    );
    expect(result.success).toBe(false);
    if (!result.success) {
      expect(formatZodIssues(result.error).message).toBe(
        'invalid request: command: command is not allowed when transport is "sse"; ' +
          'args: args is not allowed when transport is "sse"; env: env is not allowed when transport is "sse"',
      );
    }
  });

  it('clears fields set to null back to their defaults, so the transport can change', () => {
    const patch = gatewayPatchSchema.parse({
      transport: 'sse',
      url: 'https://x.example.com/sse',
      command: null,
      args: null,
      env: null,
      timeoutMs: null,
    });
    expect(applyGatewayPatch(current, patch)).toEqual({
      success: true,
      data: {
        name: 'files',
        transport: 'sse',
        url: 'https://x.example.com/sse',
        args: [],
        env: {},
        headers: {},
        enabled: true,
        tags: [],
      },
    });
  });

  it('does not allow clearing name or transport', () => {
    expect(gatewayPatchSchema.safeParse({ name: null }).success).toBe(false);
    expect(gatewayPatchSchema.safeParse({ transport: null }).success).toBe(false);
  });
});
