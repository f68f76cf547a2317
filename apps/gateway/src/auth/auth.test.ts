import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { hashPassword } from '@mcp-gateway/auth';
import { createWebSocketClientTransport } from '@mcp-gateway/transport-websocket';
import { startAuthorizationServer, type AuthorizationServer } from '@mcp-gateway/testing';
import { startGateway, type RunningGateway } from '../start-gateway.ts';
import { testConfig, waitFor, waitForReadyUpstreams, stdioFixtureGateway } from '../test-support.ts';

// Attack tests of issue #6 through the real gateway: JWTs from a local authorization server (JWKS over loopback),
// API tokens, Basic users, scopes, roles, virtual-server scoping and the OAuth resource metadata.

const PUBLIC_URL = 'http://gateway.test';
const AUDIENCE = `${PUBLIC_URL}/mcp`;
const MCP_SCOPE = 'mcp';

const fixture = (name: string) => stdioFixtureGateway(name);

let issuer: AuthorizationServer;
let gateway: RunningGateway;
let dispose: () => Promise<void>;

const adminClaims = {
  sub: 'alice',
  aud: AUDIENCE,
  roles: ['admin'],
  scope: `${MCP_SCOPE} admin:read admin:write`,
};

async function token(
  claims: Record<string, unknown> = adminClaims,
  options?: Parameters<AuthorizationServer['issueToken']>[1],
) {
  return issuer.issueToken(claims, options);
}

function initializeBody() {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  });
}

async function postMcp(headers: Record<string, string>, path = '/mcp'): Promise<Response> {
  return fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: initializeBody(),
  });
}

async function connect(bearer: string, path = '/mcp'): Promise<Client & AsyncDisposable> {
  const client = new Client({ name: 'auth-test', version: '1.0.0' }, { capabilities: {} });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${gateway.url}${path}`), {
      requestInit: { headers: { authorization: `Bearer ${bearer}` } },
    }),
  );
  return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() });
}

beforeAll(async () => {
  issuer = await startAuthorizationServer();
  const config = await testConfig({
    publicUrl: PUBLIC_URL,
    mcpScopes: [MCP_SCOPE],
    auth: ['jwt', 'token', 'basic'],
  });
  gateway = await startGateway({
    config,
    gateways: [fixture('alpha')],
    env: {
      MCP_GATEWAY_JWT_JWKS_URL: issuer.jwksUrl,
      MCP_GATEWAY_JWT_AUDIENCE: AUDIENCE,
      MCP_GATEWAY_JWT_ISSUER: issuer.issuer,
    },
  });
  await waitForReadyUpstreams(gateway, 1);
  dispose = async () => {
    await gateway.close();
    await config[Symbol.asyncDispose]();
    await issuer.close();
  };
}, 60_000);

afterAll(async () => {
  await dispose?.();
});

describe('inbound authentication through the gateway', () => {
  it('answers 401 with a challenge pointing at the protected resource metadata, which names the issuer', async () => {
    const response = await postMcp({});
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain(
      `resource_metadata="${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp"`,
    );
    const metadata = await fetch(`${gateway.url}/.well-known/oauth-protected-resource/mcp`);
    expect(metadata.status).toBe(200);
    const body = (await metadata.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ resource: AUDIENCE, authorization_servers: [issuer.issuer] });
    expect(body.scopes_supported).toContain(MCP_SCOPE);
  });

  it('lets the official SDK client in with a valid RS256 token from the authorization server', async () => {
    await using client = await connect(await token());
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('alpha__echo');
    const result = await client.callTool({ name: 'alpha__echo', arguments: { message: 'hi' } });
    expect(result.isError).toBeFalsy();
  });

  it('refuses forged, misdirected and stale tokens with 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const valid = await token();
    const [header, payload] = valid.split('.');
    const tamperedPayload = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload!, 'base64url').toString()),
        roles: ['admin', 'root'],
      }),
    ).toString('base64url');
    const attacks: Record<string, string> = {
      'alg none': await token(adminClaims, { alg: 'none' }),
      'RS256 public key used as an HS256 secret': await token(adminClaims, {
        alg: 'HS256',
        secret: issuer.publicKeyPem('RS256'),
      }),
      'bad signature': `${header}.${tamperedPayload}.${valid.split('.')[2]}`,
      'unknown kid': await token(adminClaims, { kid: 'no-such-key' }),
      'wrong audience': await token({ ...adminClaims, aud: 'http://other-service.test/mcp' }),
      'wrong issuer': await token({ ...adminClaims, iss: 'http://evil.test' }),
      expired: await token({ ...adminClaims, iat: now - 7200, exp: now - 3600 }),
      'nbf in the future': await token({ ...adminClaims, nbf: now + 3600 }),
    };
    for (const [attack, jwt] of Object.entries(attacks)) {
      const response = await postMcp({ authorization: `Bearer ${jwt}` });
      expect(response.status, attack).toBe(401);
      expect(response.headers.get('www-authenticate'), attack).toContain('error="invalid_token"');
    }
    const inQuery = await fetch(`${gateway.url}/mcp?access_token=${valid}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: initializeBody(),
    });
    expect(inQuery.status).toBe(401);
    expect(await inQuery.text()).toContain('query string');
  });

  it('answers 403 insufficient_scope to a valid token without the MCP scope, and to the REST API without admin scopes', async () => {
    const noScope = await token({ ...adminClaims, scope: 'admin:read' });
    const mcp = await postMcp({ authorization: `Bearer ${noScope}` });
    expect(mcp.status).toBe(403);
    expect(mcp.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(mcp.headers.get('www-authenticate')).toContain(`scope="${MCP_SCOPE}"`);

    const readOnly = await token({ ...adminClaims, scope: `${MCP_SCOPE} admin:read` });
    const list = await fetch(`${gateway.url}/v1/gateways`, {
      headers: { authorization: `Bearer ${readOnly}` },
    });
    expect(list.status).toBe(200);
    const write = await fetch(`${gateway.url}/v1/tags`, {
      method: 'POST',
      headers: { authorization: `Bearer ${readOnly}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(write.status).toBe(403);
    expect(write.headers.get('www-authenticate')).toContain('scope="admin:write"');
    expect(write.headers.get('www-authenticate')).toContain(
      `resource_metadata="${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp"`,
    );
  });

  it('keeps a viewer to reading the REST API, whatever its token scopes', async () => {
    const viewer = await token({ sub: 'victor', aud: AUDIENCE, roles: ['viewer'], scope: 'admin:write mcp' });
    const headers = { authorization: `Bearer ${viewer}`, 'content-type': 'application/json' };
    expect((await fetch(`${gateway.url}/v1/gateways`, { headers })).status).toBe(200);
    const create = await fetch(`${gateway.url}/v1/gateways`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'sneaky', transport: 'stdio', command: 'true' }),
    });
    expect(create.status).toBe(403);
    expect(((await create.json()) as { error: { message: string } }).error.message).toMatch(
      /viewer role may not create/,
    );
    expect((await fetch(`${gateway.url}/v1/config`, { headers })).status).toBe(403);
  });

  it('accepts API tokens, and refuses one at once after it is revoked', async () => {
    const { token: apiToken, info } = await gateway.auth.tokens.create({
      name: 'ci',
      ownerId: 'bob',
      roles: ['developer'],
      scopes: [MCP_SCOPE],
    });
    {
      await using client = await connect(apiToken);
      expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    }
    await gateway.auth.tokens.revoke(info.id);
    const response = await postMcp({ authorization: `Bearer ${apiToken}` });
    expect(response.status).toBe(401);
  });

  it('refuses a token scoped to virtual server A on virtual server B and on the full catalog', async () => {
    const admin = { authorization: `Bearer ${await token()}`, 'content-type': 'application/json' };
    const tools = (await (await fetch(`${gateway.url}/v1/tools?limit=200`, { headers: admin })).json()) as {
      items: Array<{ id: string; originalName: string }>;
    };
    const echo = tools.items.find((tool) => tool.originalName === 'echo')!;
    const ids: string[] = [];
    for (const name of ['server-a', 'server-b']) {
      const created = await fetch(`${gateway.url}/v1/servers`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ name, members: [{ kind: 'tool', id: echo.id }] }),
      });
      expect(created.status, await created.clone().text()).toBe(201);
      ids.push(((await created.json()) as { id: string }).id);
    }
    const [a, b] = ids as [string, string];
    // The catalog picks new servers up from the change feed: wait until both are served.
    for (const id of ids) {
      await waitFor(`virtual server ${id} served`, async () =>
        (await fetch(`${gateway.url}/.well-known/oauth-protected-resource/servers/${id}/mcp`)).status === 200
          ? true
          : undefined,
      );
    }
    const { token: scoped } = await gateway.auth.tokens.create({
      name: 'only-a',
      ownerId: 'carol',
      roles: ['developer'],
      scopes: [MCP_SCOPE],
      virtualServers: [a],
    });
    const onA = await postMcp({ authorization: `Bearer ${scoped}` }, `/servers/${a}/mcp`);
    expect(onA.status, await onA.clone().text()).toBe(200);
    const onB = await postMcp({ authorization: `Bearer ${scoped}` }, `/servers/${b}/mcp`);
    expect(onB.status).toBe(403);
    const onAll = await postMcp({ authorization: `Bearer ${scoped}` });
    expect(onAll.status).toBe(403);
  });

  it('signs people in with Basic auth, and never with a wrong password', async () => {
    const now = new Date();
    await gateway.auth.users.upsert({
      id: 'u-dana',
      username: 'dana',
      passwordHash: await hashPassword('correct horse battery staple'),
      roles: ['viewer'],
      teams: [],
      disabled: false,
      createdAt: now,
      updatedAt: now,
    });
    const basic = (password: string) => `Basic ${Buffer.from(`dana:${password}`).toString('base64')}`;
    const ok = await fetch(`${gateway.url}/v1/gateways`, {
      headers: { authorization: basic('correct horse battery staple') },
    });
    expect(ok.status).toBe(200);
    const wrong = await fetch(`${gateway.url}/v1/gateways`, { headers: { authorization: basic('guess') } });
    expect(wrong.status).toBe(401);
  });

  it("keeps another team's private tools invisible and uncallable, on MCP and on REST", async () => {
    const admin = { authorization: `Bearer ${await token()}`, 'content-type': 'application/json' };
    const created = await fetch(`${gateway.url}/v1/gateways`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ ...fixture('red'), team: 'red', visibility: 'team' }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const gatewayId = ((await created.json()) as { id: string }).id;
    await waitForReadyUpstreams(gateway, 2);

    const member = await token({
      sub: 'rita',
      aud: AUDIENCE,
      roles: ['developer'],
      teams: ['red'],
      scope: `${MCP_SCOPE} admin:read`,
    });
    const outsider = await token({
      sub: 'otto',
      aud: AUDIENCE,
      roles: ['developer'],
      teams: ['blue'],
      scope: `${MCP_SCOPE} admin:read`,
    });
    {
      await using client = await connect(member);
      await waitFor('the red tools listed for a red member', async () =>
        (await client.listTools()).tools.some((t) => t.name === 'red__echo') ? true : undefined,
      );
      expect(
        (await client.callTool({ name: 'red__echo', arguments: { message: 'hi' } })).isError,
      ).toBeFalsy();
    }
    {
      await using client = await connect(outsider);
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('alpha__echo');
      expect(names.filter((name) => name.startsWith('red__'))).toEqual([]);
      const denied = await client.callTool({ name: 'red__echo', arguments: { message: 'hi' } }).then(
        () => 'called',
        (error: unknown) => (error as Error).message,
      );
      const unknown = await client.callTool({ name: 'nothing__here', arguments: {} }).then(
        () => 'called',
        (error: unknown) => (error as Error).message,
      );
      // A denial looks exactly like a tool that does not exist.
      expect(denied).toBe(unknown.replace('nothing__here', 'red__echo'));
    }
    const outsiderRest = { authorization: `Bearer ${outsider}` };
    expect((await fetch(`${gateway.url}/v1/gateways/${gatewayId}`, { headers: outsiderRest })).status).toBe(
      404,
    );
    const tools = (await (
      await fetch(`${gateway.url}/v1/tools?limit=200`, { headers: outsiderRest })
    ).json()) as {
      items: Array<{ gatewayId?: string }>;
    };
    expect(tools.items.some((tool) => tool.gatewayId === gatewayId)).toBe(false);
    const explained = (await (
      await fetch(`${gateway.url}/v1/authz/explain?principal=me&tool=red__echo`, { headers: admin })
    ).json()) as { allowed: boolean };
    expect(explained.allowed).toBe(true);
  });

  // Uses the "red" gateway (team red) the previous test registered.
  it('hides team items under virtual-server aliases, private servers and completions, and over WebSocket too', async () => {
    const admin = { authorization: `Bearer ${await token()}`, 'content-type': 'application/json' };
    const gateways = (await (await fetch(`${gateway.url}/v1/gateways`, { headers: admin })).json()) as {
      items: Array<{ id: string; name: string }>;
    };
    type ToolItem = { id: string; originalName: string; gatewayId?: string };
    const redId = gateways.items.find((g) => g.name === 'red')!.id;
    // Discovered tools reach the registry shortly after the upstream lists them: wait for red's.
    const tools = await waitFor('the red tools in the registry', async () => {
      const page = (await (await fetch(`${gateway.url}/v1/tools?limit=200`, { headers: admin })).json()) as {
        items: ToolItem[];
      };
      return page.items.some((t) => t.gatewayId === redId) ? page : undefined;
    });
    /** The tool `echo` of the gateway named `gatewayName`, as a virtual-server member. */
    const member = (gatewayName: string) => {
      const gatewayId = gateways.items.find((g) => g.name === gatewayName)!.id;
      const tool = tools.items.find((t) => t.gatewayId === gatewayId && t.originalName === 'echo')!;
      return { kind: 'tool', id: tool.id };
    };
    const server = async (body: Record<string, unknown>) => {
      const created = await fetch(`${gateway.url}/v1/servers`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify(body),
      });
      expect(created.status, await created.clone().text()).toBe(201);
      const id = ((await created.json()) as { id: string }).id;
      await waitFor(`virtual server ${id} served`, async () =>
        (await fetch(`${gateway.url}/.well-known/oauth-protected-resource/servers/${id}/mcp`)).status === 200
          ? true
          : undefined,
      );
      return id;
    };
    const mixed = await server({
      name: 'mixed',
      members: [
        { ...member('alpha'), alias: 'shout' },
        { ...member('red'), alias: 'whisper' },
      ],
    });
    const secret = await server({ name: 'secret', visibility: 'private', members: [member('alpha')] });

    const outsider = await token({
      sub: 'otto',
      aud: AUDIENCE,
      roles: ['developer'],
      teams: ['blue'],
      scope: MCP_SCOPE,
    });
    const rita = await token({
      sub: 'rita',
      aud: AUDIENCE,
      roles: ['developer'],
      teams: ['red'],
      scope: MCP_SCOPE,
    });
    {
      await using client = await connect(outsider, `/servers/${mixed}/mcp`);
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['shout']);
      await expect(client.callTool({ name: 'whisper', arguments: { message: 'x' } })).rejects.toThrow(
        /Unknown tool: whisper/,
      );
    }
    {
      await using client = await connect(rita, `/servers/${mixed}/mcp`);
      expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['shout', 'whisper']);
    }
    expect((await postMcp({ authorization: `Bearer ${outsider}` }, `/servers/${secret}/mcp`)).status).toBe(
      404,
    );

    // Completion of a prompt the caller may not see fails as for an unknown prompt.
    const complete = (client: Client) =>
      client.complete({
        ref: { type: 'ref/prompt', name: 'red__greeting' },
        argument: { name: 'name', value: '' },
      });
    {
      await using client = await connect(outsider);
      await expect(complete(client)).rejects.toThrow(/Unknown prompt: red__greeting/);
    }
    {
      await using client = await connect(rita);
      expect((await complete(client)).completion).toBeDefined();
    }

    // Over WebSocket each frame runs as the socket's principal: public calls work, team tools stay hidden.
    const ws = new Client({ name: 'ws-auth', version: '1.0.0' }, { capabilities: {} });
    await ws.connect(
      createWebSocketClientTransport({
        url: `${gateway.url.replace('http', 'ws')}/ws`,
        headers: { authorization: `Bearer ${outsider}` },
      }),
    );
    try {
      const names = (await ws.listTools()).tools.map((t) => t.name);
      expect(names).toContain('alpha__echo');
      expect(names.some((name) => name.startsWith('red__'))).toBe(false);
      expect((await ws.callTool({ name: 'alpha__echo', arguments: { message: 'ws' } })).isError).toBeFalsy();
      await expect(ws.callTool({ name: 'red__echo', arguments: { message: 'x' } })).rejects.toThrow(
        /Unknown tool/,
      );
    } finally {
      await ws.close();
    }
  });

  it("answers 404 to anyone using another principal's session id", async () => {
    const alice = await token();
    const bob = await token({ ...adminClaims, sub: 'bob' });
    const opened = await postMcp({ authorization: `Bearer ${alice}` });
    expect(opened.status).toBe(200);
    const sessionId = opened.headers.get('mcp-session-id')!;
    expect(sessionId).toBeTruthy();
    await opened.body?.cancel();
    const list = (bearer: string) =>
      fetch(`${gateway.url}/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${bearer}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': sessionId,
          'mcp-protocol-version': '2025-06-18',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
      });
    const stolen = await list(bob);
    expect(stolen.status).toBe(404);
    const own = await list(alice);
    expect(own.status).toBe(200);
    await own.body?.cancel();
  });

  it('refuses a JWT whose jti an admin revoked', async () => {
    const marked = await token({
      ...adminClaims,
      sub: 'mallory',
      roles: ['developer'],
      jti: 'jti-to-revoke',
    });
    expect((await postMcp({ authorization: `Bearer ${marked}` })).status).toBe(200);
    const viewer = await token({ sub: 'victor', aud: AUDIENCE, roles: ['viewer'], scope: 'admin:write' });
    const notAllowed = await fetch(`${gateway.url}/v1/authz/jwt-revocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${viewer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jti: 'jti-to-revoke' }),
    });
    expect(notAllowed.status).toBe(403);
    const revoked = await fetch(`${gateway.url}/v1/authz/jwt-revocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jti: 'jti-to-revoke' }),
    });
    expect(revoked.status).toBe(201);
    const refused = await postMcp({ authorization: `Bearer ${marked}` });
    expect(refused.status).toBe(401);
  });

  it('revokes the API tokens of a user who is disabled', async () => {
    const admin = { authorization: `Bearer ${await token()}`, 'content-type': 'application/json' };
    const created = await fetch(`${gateway.url}/v1/users`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ username: 'erin', password: 'a long enough password', roles: ['developer'] }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const userId = ((await created.json()) as { id: string }).id;
    const { token: erinToken } = await gateway.auth.tokens.create({
      name: 'laptop',
      ownerId: userId,
      roles: ['developer'],
      scopes: [MCP_SCOPE],
    });
    expect((await postMcp({ authorization: `Bearer ${erinToken}` })).status).toBe(200);
    const disabled = await fetch(`${gateway.url}/v1/users/${userId}`, {
      method: 'PATCH',
      headers: admin,
      body: JSON.stringify({ disabled: true }),
    });
    expect(disabled.status).toBe(200);
    expect((await postMcp({ authorization: `Bearer ${erinToken}` })).status).toBe(401);
  });

  it('refuses a WebSocket upgrade without credentials', async () => {
    const { WebSocket } = await import('ws');
    const status = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(`${gateway.url.replace('http', 'ws')}/ws`, 'mcp');
      socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.on('open', () => reject(new Error('the upgrade was accepted')));
      socket.on('error', () => undefined);
    });
    expect(status).toBe(401);
  });

  it('explains an authorization decision', async () => {
    const admin = { authorization: `Bearer ${await token()}` };
    const response = await fetch(`${gateway.url}/v1/authz/explain?principal=me&tool=alpha__echo`, {
      headers: admin,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { allowed: boolean; steps: string[] };
    expect(body.allowed).toBe(true);
    expect(body.steps.join('\n')).toContain('admin');
  });
});

describe('binding', () => {
  it('refuses to listen beyond loopback without authentication', async () => {
    await using config = await testConfig({ host: '0.0.0.0' });
    await expect(startGateway({ config })).rejects.toThrow(
      /refusing to listen on 0\.0\.0\.0 without authentication/,
    );
  });
});
