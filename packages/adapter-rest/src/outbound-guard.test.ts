import { Hono } from 'hono';
import type { LookupFunction } from 'node:net';
import { describe, expect, it } from 'vitest';
import { callTool, disposableUpstream, startApiServer, textOf } from './api-server.test-support.ts';
import {
  blockedAddressReason,
  createOutboundGuard,
  parseOutboundAllowList,
  type OutboundAllowEntry,
} from './outbound-guard.ts';
import { RestAdapterError } from './rest-adapter-error.ts';

describe('blockedAddressReason', () => {
  it.each([
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['169.254.169.254', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.100.100.200', 'carrierGradeNat'],
    ['fc00::1', 'uniqueLocal'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['::127.0.0.1', 'loopback'],
    ['not-an-ip', 'not an IP address'],
  ])('blocks %s (%s)', (address, reason) => {
    expect(blockedAddressReason(address)).toBe(reason);
  });

  it.each(['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'lets %s through',
    (address) => {
      expect(blockedAddressReason(address)).toBeUndefined();
    },
  );
});

describe('createOutboundGuard().checkUrl', () => {
  const guard = createOutboundGuard();
  it.each([
    ['http://2130706433/', 'loopback'],
    ['http://0x7f000001/', 'loopback'],
    ['http://0177.0.0.1/', 'loopback'],
    ['http://127.1/', 'loopback'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://[::1]:8080/', 'loopback'],
    ['http://169.254.169.254/latest/meta-data/', 'linkLocal'],
    ['http://[fd00:ec2::254]/', 'uniqueLocal'],
    ['http://metadata.google.internal/computeMetadata/v1/', 'cloud metadata'],
    ['http://METADATA.GOOGLE.INTERNAL./', 'cloud metadata'],
    ['file:///etc/passwd', 'scheme "file:"'],
    ['gopher://example.com/', 'scheme "gopher:"'],
    ['http://user:pass@example.com/', 'credentials in the URL'],
  ])('refuses %s before any connection', (url, reason) => {
    let error: unknown;
    try {
      guard.checkUrl(new URL(url));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RestAdapterError);
    expect((error as RestAdapterError).code).toBe('outbound-blocked');
    expect((error as RestAdapterError).message).toContain(reason);
  });

  it('leaves host names to the connect-time check', () => {
    expect(() => guard.checkUrl(new URL('https://api.example.com/v1'))).not.toThrow();
  });
});

describe('parseOutboundAllowList', () => {
  it('reads hosts, host:port pairs, addresses and CIDR ranges from MCP_GATEWAY_OUTBOUND_ALLOW', () => {
    const allow = parseOutboundAllowList({
      MCP_GATEWAY_OUTBOUND_ALLOW:
        ' 10.0.0.0/8, api.internal ,127.0.0.1:8080,[::1]:9000,*.corp.example,, fd00::/8',
    });
    expect(allow.map(showEntry)).toEqual([
      'address 10.0.0.0/8',
      'host api.internal',
      'address 127.0.0.1/32 port 8080',
      'address ::1/128 port 9000',
      'host *.corp.example',
      'address fd00::/8',
    ]);
    expect(parseOutboundAllowList({})).toEqual([]);
    expect(() => parseOutboundAllowList({ MCP_GATEWAY_OUTBOUND_ALLOW: 'http://x/' })).toThrow(
      /allowlist entry "http:\/\/x\/" is not a host, address or CIDR/,
    );
  });

  it('reopens exactly what it lists', () => {
    const guard = createOutboundGuard(
      parseOutboundAllowList({
        MCP_GATEWAY_OUTBOUND_ALLOW: '10.0.0.0/8,api.internal,127.0.0.1:8080,*.corp.example',
      }),
    );
    const allowed = (hostname: string, port: number, address: string) => {
      try {
        guard.checkAddress({ hostname, port, address });
        return true;
      } catch {
        return false;
      }
    };
    expect(allowed('x', 443, '10.2.3.4')).toBe(true);
    expect(allowed('x', 443, '::ffff:10.2.3.4')).toBe(true);
    expect(allowed('x', 443, '192.168.0.1')).toBe(false);
    expect(allowed('api.internal', 443, '192.168.0.1')).toBe(true);
    expect(allowed('db.corp.example', 5432, '172.20.0.5')).toBe(true);
    expect(allowed('corp.example.evil', 443, '172.20.0.5')).toBe(false);
    expect(allowed('127.0.0.1', 8080, '127.0.0.1')).toBe(true);
    expect(allowed('127.0.0.1', 8081, '127.0.0.1')).toBe(false);
    expect(allowed('localhost', 8080, '127.0.0.1')).toBe(true);
    expect(allowed('x', 80, '169.254.169.254')).toBe(false);
  });
});

function showEntry(entry: OutboundAllowEntry): string {
  const port = entry.port === undefined ? '' : ` port ${entry.port}`;
  if (entry.kind === 'host') return `host ${entry.host}${port}`;
  return `address ${entry.range[0].toString()}/${entry.range[1]}${port}`;
}

describe('the guard on real requests: nothing blocked is ever connected to', () => {
  /** Server A is the allowlisted API; server B stands for an internal service and must see no connection. */
  const startServers = async () => {
    const internal = await startApiServer(new Hono().all('*', (c) => c.text('internal secrets')));
    const app = new Hono();
    const redirects: Record<string, string> = {
      '/to-internal-port': `http://127.0.0.1:${internal.port}/`,
      '/to-localhost': `http://localhost:${internal.port}/`,
      '/to-decimal': `http://2130706433:${internal.port}/`,
      '/to-hex': `http://0x7f000001:${internal.port}/`,
      '/to-octal': `http://0177.0.0.1:${internal.port}/`,
      '/to-mapped': `http://[::ffff:127.0.0.1]:${internal.port}/`,
      '/to-metadata': 'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
      '/to-metadata-v6': 'http://[fd00:ec2::254]/latest/meta-data/',
      '/to-file': 'file:///etc/passwd',
      '/loop': '/loop',
      '/hop1': '/hop2',
      '/hop2': '/final',
    };
    for (const [path, location] of Object.entries(redirects)) app.get(path, (c) => c.redirect(location, 302));
    app.get('/final', (c) => c.json({ arrived: true }));
    const api = await startApiServer(app);
    return { api, internal };
  };

  it('refuses redirects to a non-allowlisted port, a host alias, IP spellings and metadata addresses', async () => {
    const { api, internal } = await startServers();
    await using _api = api;
    await using _internal = internal;
    const paths = [
      '/to-internal-port',
      '/to-localhost',
      '/to-decimal',
      '/to-hex',
      '/to-octal',
      '/to-mapped',
      '/to-metadata',
      '/to-metadata-v6',
      '/to-file',
    ];
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      outboundAllow: [`127.0.0.1:${api.port}`],
      tools: paths.map((path) => ({
        name: path.slice(1),
        method: 'GET' as const,
        url: `${api.origin}${path}`,
      })),
    });
    for (const path of paths) {
      const result = await callTool(upstream, path.slice(1));
      expect(result.isError, path).toBe(true);
      expect(textOf(result), path).toMatch(/refused/);
    }
    expect(textOf(await callTool(upstream, 'to-metadata'))).toBe(
      'outbound request to 169.254.169.254:80 refused: linkLocal address; allow it with MCP_GATEWAY_OUTBOUND_ALLOW',
    );
    expect(textOf(await callTool(upstream, 'to-localhost'))).toMatch(
      new RegExp(
        `outbound request to localhost \\((127\\.0\\.0\\.1|::1)\\):${internal.port} refused: loopback`,
      ),
    );
    expect(internal.connections()).toBe(0);
  });

  it('refuses a tool URL that points at a blocked address in any spelling, with no connection', async () => {
    const { api, internal } = await startServers();
    await using _api = api;
    await using _internal = internal;
    const urls = [
      `http://127.0.0.1:${internal.port}/`,
      `http://2130706433:${internal.port}/`,
      `http://0x7f000001:${internal.port}/`,
      `http://0177.0.0.1:${internal.port}/`,
      `http://[::ffff:7f00:1]:${internal.port}/`,
    ];
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      outboundAllow: [`127.0.0.1:${api.port}`],
      tools: urls.map((url, index) => ({ name: `t${index}`, method: 'GET' as const, url })),
    });
    const messages: string[] = [];
    for (const [index] of urls.entries()) messages.push(textOf(await callTool(upstream, `t${index}`)));
    const refusal = (host: string) =>
      `outbound request to ${host}:${internal.port} refused: loopback address; allow it with MCP_GATEWAY_OUTBOUND_ALLOW`;
    // The URL parser turns every IPv4 spelling into 127.0.0.1 before the guard looks at it.
    expect(messages).toEqual([
      refusal('127.0.0.1'),
      refusal('127.0.0.1'),
      refusal('127.0.0.1'),
      refusal('127.0.0.1'),
      refusal('[::ffff:7f00:1]'),
    ]);
    expect(internal.connections()).toBe(0);
  });

  it('follows up to five same-site redirects and stops a loop', async () => {
    const { api, internal } = await startServers();
    await using _api = api;
    await using _internal = internal;
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      outboundAllow: [`127.0.0.1:${api.port}`],
      tools: [
        { name: 'hops', method: 'GET', url: `${api.origin}/hop1` },
        { name: 'loop', method: 'GET', url: `${api.origin}/loop` },
      ],
    });
    expect((await callTool(upstream, 'hops')).structuredContent).toEqual({ arrived: true });
    const loop = await callTool(upstream, 'loop');
    expect(textOf(loop)).toBe(`more than 5 redirects from ${api.origin}/loop`);
  });

  it('refuses the API itself when nothing allows loopback', async () => {
    const { api, internal } = await startServers();
    await using _api = api;
    await using _internal = internal;
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      tools: [{ name: 'final', method: 'GET', url: `${api.origin}/final` }],
    });
    expect(textOf(await callTool(upstream, 'final'))).toContain('refused: loopback address');
    expect(api.connections()).toBe(0);
  });

  it('checks the address a name resolves to at connect time, where it is connected to', async () => {
    const { api, internal } = await startServers();
    await using _api = api;
    await using _internal = internal;
    const lookups: string[] = [];
    const table: Record<string, string> = {
      'api.test': '127.0.0.1',
      'evil.test': '169.254.169.254',
      'sneaky.test': '10.0.0.7',
    };
    const lookup: LookupFunction = (hostname, options, callback) => {
      lookups.push(hostname);
      const address = table[hostname];
      if (address === undefined) {
        callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 4);
      } else if (options.all) callback(null, [{ address, family: 4 }]);
      else callback(null, address, 4);
    };
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      lookup,
      outboundAllow: [`127.0.0.1:${api.port}`],
      tools: [
        { name: 'ok', method: 'GET', url: `http://api.test:${api.port}/final` },
        { name: 'other_port', method: 'GET', url: `http://api.test:${internal.port}/` },
        { name: 'metadata', method: 'GET', url: 'http://evil.test/' },
        { name: 'private', method: 'GET', url: 'http://sneaky.test:8080/' },
      ],
    });
    expect((await callTool(upstream, 'ok')).structuredContent).toEqual({ arrived: true });
    expect(textOf(await callTool(upstream, 'other_port'))).toBe(
      `outbound request to api.test (127.0.0.1):${internal.port} refused: loopback address; allow it with MCP_GATEWAY_OUTBOUND_ALLOW`,
    );
    expect(textOf(await callTool(upstream, 'metadata'))).toContain(
      'evil.test (169.254.169.254):80 refused: linkLocal',
    );
    expect(textOf(await callTool(upstream, 'private'))).toContain(
      'sneaky.test (10.0.0.7):8080 refused: private',
    );
    expect(lookups).toEqual(['api.test', 'api.test', 'evil.test', 'sneaky.test']);
    expect(internal.connections()).toBe(0);
  });

  it('drops credentials on a redirect to another origin', async () => {
    const other = new Hono();
    const seen: Array<string | undefined> = [];
    other.get('*', (c) => {
      seen.push(c.req.header('authorization'));
      return c.json({ ok: true });
    });
    await using otherServer = await startApiServer(other);
    const app = new Hono();
    app.get('/away', (c) => c.redirect(`${otherServer.origin}/landed`, 307));
    await using api = await startApiServer(app);
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      outboundAllow: [`127.0.0.1:${api.port}`, `127.0.0.1:${otherServer.port}`],
      tools: [
        { name: 'away', method: 'GET', url: `${api.origin}/away`, auth: { type: 'bearer', token: 'secret' } },
      ],
    });
    expect((await callTool(upstream, 'away')).structuredContent).toEqual({ ok: true });
    expect(seen).toEqual([undefined]);
  });
});
