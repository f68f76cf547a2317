import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { FAULT_API_BINARIES, FAULT_API_USERS, startFaultApi, type FaultApi } from '@mcp-gateway/testing';
import { loadConfigFile } from './config/index.ts';
import { startGateway, type RunningGateway } from './start-gateway.ts';
import { connectClient, testConfig, waitFor } from './test-support.ts';

// REST tools' reliability, limits, auth, shaping and SSRF guard, end to end: each tool is created with
// POST /v1/tools (or comes from the --config file the gateway starts with), called with the official SDK client
// through the gateway, and checked both in what the client sees and in what the fault API received. Each behaviour
// gets its own API (its own host:port), so one test's failures never open another's circuit. One gateway serves the
// whole file: starting one (PGlite and its migrations) is the slow part.

type ToolResult = {
  content: Array<{ type: string; text?: string; data?: string; mimeType?: string; resource?: unknown }>;
  isError?: boolean;
  structuredContent?: unknown;
};

const MiB = 1024 * 1024;
const textOf = (result: ToolResult) => result.content.map((block) => block.text ?? '').join('\n');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('REST tools through the gateway: reliability, limits, auth, shaping, SSRF', () => {
  const apis = {} as Record<
    | 'retries'
    | 'flaky'
    | 'rate'
    | 'concurrency'
    | 'queue'
    | 'breaker'
    | 'breakerOther'
    | 'oauth'
    | 'timeouts'
    | 'bodies'
    | 'redirects'
    | 'shaping'
    | 'configured',
    FaultApi
  >;
  /** Stands in for the redirect target: never allowlisted, so it must see no connection at all. */
  let forbidden: FaultApi;
  let gateway: RunningGateway;
  let client: Client;
  let config: Awaited<ReturnType<typeof testConfig>>;
  let configPath: string;

  /** Creates a REST tool with POST /v1/tools and waits until the client lists it. */
  const defineTool = async (definition: Record<string, unknown>) => {
    const response = await fetch(`${gateway.url}/v1/tools`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ integration: 'rest', method: 'GET', ...definition }),
    });
    expect(response.status, await response.clone().text()).toBe(201);
    await waitFor(`${String(definition.name)} in tools/list`, async () =>
      (await client.listTools()).tools.some((tool) => tool.name === definition.name) ? true : undefined,
    );
  };
  const call = (name: string, args: Record<string, unknown> = {}) =>
    client.callTool({ name, arguments: args }) as Promise<ToolResult>;

  beforeAll(async () => {
    for (const key of Object.keys({
      retries: 0,
      flaky: 0,
      rate: 0,
      concurrency: 0,
      queue: 0,
      breaker: 0,
      breakerOther: 0,
      oauth: 0,
      timeouts: 0,
      bodies: 0,
      redirects: 0,
      shaping: 0,
      configured: 0,
    }) as Array<keyof typeof apis>) {
      apis[key] = await startFaultApi(key === 'oauth' ? { tokenLifetimeSeconds: 2 } : {});
    }
    forbidden = await startFaultApi();
    config = await testConfig();
    // Only the fault APIs' own host:port pairs are allowlisted; every other loopback port stays blocked.
    const allow = Object.values(apis)
      .map((api) => `127.0.0.1:${api.port}`)
      .join(',');
    // The config file's catalog section, loaded and applied the way `mcp-gateway start --config` does.
    configPath = join(config.dataDir ?? '.', 'gateway.yaml');
    await writeFile(configPath, configFileText(apis.configured.origin));
    const file = await loadConfigFile(configPath);
    gateway = await startGateway({
      config,
      gateways: file.gateways,
      catalog: file.catalog,
      configSource: configPath,
      env: { MCP_GATEWAY_OUTBOUND_ALLOW: allow },
    });
    client = await connectClient(gateway);
  });

  afterAll(async () => {
    await client?.close();
    await gateway?.close();
    for (const api of [...Object.values(apis), forbidden]) await api?.close();
    await config?.[Symbol.asyncDispose]();
  });

  describe('tools from the config file', () => {
    it('serves REST and command tools declared in the --config file, with their limits and shaping', async () => {
      const api = apis.configured;
      const { tools } = await client.listTools();
      const configured = tools.find((tool) => tool.name === 'config_user');
      expect(configured).toMatchObject({
        description: 'One user from the configured API.',
        inputSchema: { type: 'object', required: ['page'] },
        outputSchema: { type: 'object', required: ['name'] },
      });
      const user = await call('config_user', { page: 1 });
      expect(user.isError).toBeFalsy();
      expect(user.structuredContent).toEqual({ name: 'Grace' });
      expect(api.requests.map((request) => `${request.method} ${request.url}`)).toEqual(['GET /json?page=1']);

      const invalid = await call('config_user', { page: 'one' });
      expect(invalid.isError).toBe(true);
      expect(textOf(invalid)).toBe('Invalid arguments for tool "config_user": page must be integer');

      // Its rate limit (2 per minute) is enforced like any other tool's.
      expect((await call('config_user', { page: 2 })).isError).toBeFalsy();
      const over = await call('config_user', { page: 3 });
      expect(over.isError).toBe(true);
      expect(textOf(over)).toContain('tool "config_user" is over its rate limit of 2 calls per 60000 ms');
      expect(api.requestsTo('/json')).toHaveLength(2);

      const echoed = await call('config_echo', { text: 'from the config file' });
      expect(echoed.isError).toBeFalsy();
      expect(textOf(echoed)).toBe('from the config file');
    });

    it('refuses a config file whose REST tool is invalid, naming the field, and keeps serving the others', async () => {
      const badPath = join(config.dataDir ?? '.', 'bad.yaml');
      await writeFile(
        badPath,
        [
          'tools:',
          '  - name: bad_method',
          '    integration: rest',
          '    integrationConfig: { method: FETCH, url: "http://127.0.0.1:1/x" }',
          '',
        ].join('\n'),
      );
      const file = await loadConfigFile(badPath);
      const refusal = await gateway.applyConfig(file, badPath).then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      expect(refusal?.message).toMatch(/^config file .*bad\.yaml: tools\.0\.integrationConfig\.method: /);
      const { tools } = await client.listTools();
      expect(tools.some((tool) => tool.name === 'bad_method')).toBe(false);
      expect(tools.some((tool) => tool.name === 'config_echo')).toBe(true);
    });
  });

  describe('retries', () => {
    it('honours Retry-After on 429, reports the retry as progress, then succeeds', async () => {
      const api = apis.retries;
      await defineTool({
        name: 'busy_then_ok',
        url: `${api.origin}/flaky/429`,
        query: { failures: { value: 1 }, retryAfter: { value: 1 }, key: { value: 'busy' } },
        retry: { initialDelayMs: 10 },
      });
      const progress: Array<string | undefined> = [];
      const result = (await client.callTool(
        { name: 'busy_then_ok', arguments: {} },
        { onprogress: (update) => progress.push(update.message) },
      )) as ToolResult;
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toEqual({ ok: true, attempt: 2 });
      const arrivals = api.requestsTo('/flaky/429').map((request) => request.at);
      expect(arrivals).toHaveLength(2);
      // Retry-After: 1 s was honoured (not the 10 ms backoff), and not overshot by much.
      const gap = (arrivals[1] ?? 0) - (arrivals[0] ?? 0);
      expect(gap).toBeGreaterThanOrEqual(950);
      expect(gap).toBeLessThan(5000);
      expect(progress).toEqual(['retrying after HTTP 429 (attempt 2 of 3)']);
    });

    it('gives up at once when Retry-After exceeds the cap, returning the 429 as a tool error', async () => {
      const api = apis.retries;
      await defineTool({
        name: 'busy_for_long',
        url: `${api.origin}/status/429`,
        query: { retryAfter: { value: 120 } },
        retry: { maxRetryAfterMs: 2000 },
      });
      const result = await call('busy_for_long');
      expect(result.isError).toBe(true);
      expect(textOf(result)).toBe(
        `HTTP 429 Too Many Requests from GET ${api.origin}/status/429 (Retry-After of 120 s exceeds the 2 s cap)`,
      );
      expect(api.requestsTo('/status/429')).toHaveLength(1);
    });

    it('retries 503 then succeeds for GET; POST is not idempotent and is not retried; retries stop at the limit', async () => {
      const api = apis.flaky;
      await defineTool({
        name: 'flaky_get',
        url: `${api.origin}/flaky/503`,
        query: { key: { value: 'get' } },
        retry: { initialDelayMs: 10, maxDelayMs: 50 },
      });
      await defineTool({
        name: 'flaky_post',
        method: 'POST',
        url: `${api.origin}/flaky/503`,
        query: { key: { value: 'post' } },
        retry: { initialDelayMs: 10, maxDelayMs: 50 },
      });
      await defineTool({
        name: 'always_503',
        url: `${api.origin}/status/503`,
        retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 50 },
      });

      const get = await call('flaky_get');
      expect(get.isError).toBeFalsy();
      expect(get.structuredContent).toEqual({ ok: true, attempt: 2 });
      const post = await call('flaky_post');
      expect(post.isError).toBe(true);
      expect(textOf(post)).toBe(`HTTP 503 Service Unavailable from POST ${api.origin}/flaky/503`);
      const down = await call('always_503');
      expect(down.isError).toBe(true);
      expect(textOf(down)).toBe(
        `HTTP 503 Service Unavailable from GET ${api.origin}/status/503 (gave up after 3 attempts)`,
      );
      const seen = api.requests.map((request) => `${request.method} ${request.url}`);
      expect(seen).toEqual([
        'GET /flaky/503?key=get',
        'GET /flaky/503?key=get',
        'POST /flaky/503?key=post',
        'GET /status/503',
        'GET /status/503',
        'GET /status/503',
      ]);
    });
  });

  describe('limits', () => {
    it('enforces a per-tool rate limit with a clear tool error, also across catalog reloads', async () => {
      const api = apis.rate;
      await defineTool({
        name: 'rate_limited',
        url: `${api.origin}/json`,
        rateLimit: { limit: 2, intervalMs: 60_000 },
        queueTimeoutMs: 0,
      });
      expect((await call('rate_limited')).isError).toBeFalsy();
      expect((await call('rate_limited')).isError).toBeFalsy();
      const over = await call('rate_limited');
      expect(over.isError).toBe(true);
      expect(textOf(over)).toMatch(
        /^tool "rate_limited" is over its rate limit of 2 calls per 60000 ms; try again in \d+(\.\d)? s$/,
      );
      expect(api.requestsTo('/json')).toHaveLength(2);

      // Another tool is added: the registry reloads and the REST tools are recompiled; the limit must hold.
      await defineTool({ name: 'rate_neighbour', url: `${api.origin}/echo` });
      const stillOver = await call('rate_limited');
      expect(stillOver.isError).toBe(true);
      expect(textOf(stillOver)).toContain('is over its rate limit of 2 calls per 60000 ms');
      expect(api.requestsTo('/json')).toHaveLength(2);
    });

    it('enforces a per-tool concurrency limit: a call over it waits up to the queue timeout, then fails', async () => {
      const api = apis.concurrency;
      await defineTool({
        name: 'one_at_a_time',
        url: `${api.origin}/held`,
        maxConcurrent: 1,
        queueTimeoutMs: 150,
        timeoutMs: 10_000,
      });
      const first = call('one_at_a_time');
      await waitFor('the first call to reach the API', () => (api.inFlight().now === 1 ? true : undefined));

      const rejected = await call('one_at_a_time');
      expect(rejected.isError).toBe(true);
      expect(textOf(rejected)).toBe(
        'tool "one_at_a_time" already runs 1 calls at once (its concurrency limit) and no slot freed within 150 ms; try again shortly',
      );
      // A catalog reload while the first call holds its slot does not hand out a second one.
      await defineTool({ name: 'concurrency_neighbour', url: `${api.origin}/echo` });
      const stillRejected = await call('one_at_a_time');
      expect(stillRejected.isError).toBe(true);
      expect(textOf(stillRejected)).toContain('already runs 1 calls at once');
      expect(api.requestsTo('/held')).toHaveLength(1);

      api.releaseHeld();
      expect((await first).structuredContent).toEqual({ ok: true });
      expect(api.inFlight().max).toBe(1);
    });

    it('queues calls over the concurrency limit and runs them one at a time', async () => {
      const api = apis.queue;
      await defineTool({
        name: 'queued',
        url: `${api.origin}/held`,
        maxConcurrent: 1,
        queueTimeoutMs: 10_000,
      });
      const calls = [call('queued'), call('queued'), call('queued')];
      await waitFor('one queued call to reach the API', () =>
        api.requestsTo('/held').length === 1 ? true : undefined,
      );
      await sleep(150); // the others wait in the gateway, not at the API
      expect(api.requestsTo('/held')).toHaveLength(1);
      api.releaseHeld();
      const results = await Promise.all(calls);
      expect(results.map((result) => result.isError ?? false)).toEqual([false, false, false]);
      expect(api.requestsTo('/held')).toHaveLength(3);
      expect(api.inFlight().max).toBe(1);
    });
  });

  it('opens the circuit for one API host after consecutive failures; other hosts keep working', async () => {
    const api = apis.breaker;
    await defineTool({ name: 'breaker_boom', url: `${api.origin}/status/500` });
    await defineTool({ name: 'breaker_healthy', url: `${api.origin}/json` });
    await defineTool({ name: 'other_host', url: `${apis.breakerOther.origin}/json` });

    for (let index = 0; index < 5; index++) {
      const failure = await call('breaker_boom');
      expect(textOf(failure)).toBe(
        `HTTP 500 Internal Server Error from GET ${api.origin}/status/500: status 500`,
      );
    }
    // The circuit is per host: a healthy path on the same host now fails fast, without a request.
    const fast = await call('breaker_healthy');
    expect(fast.isError).toBe(true);
    expect(textOf(fast)).toMatch(
      new RegExp(
        `^circuit open for 127\\.0\\.0\\.1:${api.port}: 5 consecutive failures; calls to it fail fast for another \\d+ s$`,
      ),
    );
    expect(api.requests).toHaveLength(5);
    expect(api.requestsTo('/json')).toHaveLength(0);

    const other = await call('other_host');
    expect(other.isError).toBeFalsy();
    expect(other.structuredContent).toEqual(FAULT_API_USERS);
  });

  it('authenticates with OAuth 2 client credentials: one token for concurrent calls, refreshed before expiry and after a 401', async () => {
    const api = apis.oauth; // issues tokens that expire in 2 s: refreshed 1.6 s after issue
    await defineTool({
      name: 'oauth_me',
      url: `${api.origin}/oauth/me`,
      auth: {
        type: 'oauth2ClientCredentials',
        tokenUrl: `${api.origin}/oauth/token`,
        clientId: 'fault-client',
        clientSecret: 'fault-secret',
        scopes: ['read'],
      },
    });
    const twoAtOnce = await Promise.all([call('oauth_me'), call('oauth_me')]);
    const issuedAt = api.requestsTo('/oauth/token')[0]?.at ?? 0;
    expect(twoAtOnce.map((result) => result.structuredContent)).toEqual([
      { token: 'token-1' },
      { token: 'token-1' },
    ]);
    expect(api.tokensIssued()).toBe(1);
    const tokenRequest = api.requestsTo('/oauth/token')[0];
    expect(new URLSearchParams(tokenRequest?.body).get('scope')).toBe('read');
    expect(tokenRequest?.headers.authorization).toBe(
      `Basic ${Buffer.from('fault-client:fault-secret').toString('base64')}`,
    );

    await sleep(Math.max(0, issuedAt + 1700 - performance.now()));
    expect((await call('oauth_me')).structuredContent).toEqual({ token: 'token-2' });
    expect(api.tokensIssued()).toBe(2);

    api.revokeTokens(); // the API refuses every token: one 401, a fresh token, one retry
    const before = api.requestsTo('/oauth/me').length;
    expect((await call('oauth_me')).structuredContent).toEqual({ token: 'token-3' });
    expect(
      api
        .requestsTo('/oauth/me')
        .slice(before)
        .map((request) => request.headers.authorization),
    ).toEqual(['Bearer token-2', 'Bearer token-3']);
    // The client secret never reaches the API itself.
    expect(
      api.requestsTo('/oauth/me').every((request) => !JSON.stringify(request).includes('fault-secret')),
    ).toBe(true);
  });

  describe('timeouts and bodies', () => {
    it('times out a hanging API per attempt, retries, and answers the client with a tool error', async () => {
      const api = apis.timeouts;
      await defineTool({
        name: 'hangs',
        url: `${api.origin}/hang`,
        timeoutMs: 300,
        retry: { maxAttempts: 2, initialDelayMs: 10 },
      });
      const result = await call('hangs');
      expect(result.isError).toBe(true);
      expect(textOf(result)).toBe(
        `GET ${api.origin}/hang timed out: no complete answer within 300 ms (gave up after 2 attempts)`,
      );
      expect(api.requestsTo('/hang')).toHaveLength(2);
      // The gateway hung up on both attempts rather than leaving them open.
      await waitFor('the API to see both requests closed', () =>
        api.inFlight().now === 0 ? true : undefined,
      );
    });

    it('bounds a slow body by the attempt timeout; a patient tool reads it whole', async () => {
      const api = apis.timeouts;
      await defineTool({
        name: 'drip_impatient',
        url: `${api.origin}/drip`,
        query: { chunks: { value: 10 }, intervalMs: { value: 60 } },
        timeoutMs: 200,
        retry: { maxAttempts: 1 },
      });
      await defineTool({
        name: 'drip_patient',
        url: `${api.origin}/drip`,
        query: { chunks: { value: 10 }, intervalMs: { value: 60 } },
        timeoutMs: 5000,
      });
      const impatient = await call('drip_impatient');
      expect(impatient.isError).toBe(true);
      expect(textOf(impatient)).toBe(`GET ${api.origin}/drip timed out: no complete answer within 200 ms`);
      const patient = await call('drip_patient');
      expect(patient.isError).toBeFalsy();
      expect(textOf(patient)).toBe(Array.from({ length: 10 }, (_, index) => `chunk ${index}\n`).join(''));
      expect(api.requestsTo('/drip')).toHaveLength(2);
    });

    it('cuts a 50 MiB body at the size cap with a marker, without reading the rest', async () => {
      const api = apis.bodies;
      await defineTool({ name: 'huge_text', url: `${api.origin}/huge`, query: { mib: { value: 50 } } });
      await defineTool({
        name: 'huge_small_cap',
        url: `${api.origin}/huge`,
        query: { mib: { value: 50 } },
        response: { maxBytes: 1000 },
      });
      const marker = '…[truncated: 1048576 of 52428800 bytes]';
      const result = await call('huge_text');
      expect(result.isError).toBeFalsy();
      const text = textOf(result);
      expect(text.endsWith(marker)).toBe(true);
      expect(text.length).toBe(MiB + marker.length);
      expect(text.slice(0, 5)).toBe('aaaaa');

      const small = await call('huge_small_cap');
      expect(textOf(small)).toBe(`${'a'.repeat(1000)}…[truncated: 1000 of 52428800 bytes]`);
      // The API stopped producing once the gateway hung up: most of the 2 × 50 MiB never existed.
      await sleep(100);
      expect(api.hugeBytesProduced()).toBeLessThan(32 * MiB);
      expect(api.requestsTo('/huge')).toHaveLength(2);
    });
  });

  describe('SSRF guard on redirects', () => {
    it('follows a redirect to an allowed origin', async () => {
      const api = apis.redirects;
      await defineTool({
        name: 'redirect_allowed',
        url: `${api.origin}/redirect`,
        query: { to: { value: `${api.origin}/json` } },
      });
      const result = await call('redirect_allowed');
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toEqual(FAULT_API_USERS);
    });

    it('refuses a redirect to 127.0.0.1 (a port not allowlisted) without connecting to it', async () => {
      const api = apis.redirects;
      await defineTool({
        name: 'redirect_loopback',
        url: `${api.origin}/redirect`,
        query: { to: { value: `${forbidden.origin}/json` } },
      });
      const before = api.requestsTo('/redirect').length;
      const result = await call('redirect_loopback');
      expect(result.isError).toBe(true);
      expect(textOf(result)).toBe(
        `outbound request to 127.0.0.1:${forbidden.port} refused: loopback address; allow it with MCP_GATEWAY_OUTBOUND_ALLOW`,
      );
      expect(api.requestsTo('/redirect')).toHaveLength(before + 1);
      expect(forbidden.connections()).toBe(0);
      expect(forbidden.requests).toHaveLength(0);
    });

    it('refuses a redirect to the cloud metadata address 169.254.169.254', async () => {
      const api = apis.redirects;
      await defineTool({
        name: 'redirect_metadata',
        url: `${api.origin}/redirect`,
        query: { to: { value: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' } },
      });
      const before = api.requestsTo('/redirect').length;
      const result = await call('redirect_metadata');
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/^outbound request to 169\.254\.169\.254:80 refused: linkLocal address/);
      // Refused before any connection: one request to the API, no retry (a refusal is not a network error).
      expect(api.requestsTo('/redirect')).toHaveLength(before + 1);
    });
  });

  describe('output', () => {
    it('shapes JSON with JMESPath into text and structuredContent the SDK client validates', async () => {
      const api = apis.shaping;
      await defineTool({
        name: 'user_names',
        url: `${api.origin}/json`,
        response: { select: 'items[?id > `1`].name' },
      });
      await defineTool({
        name: 'first_user',
        url: `${api.origin}/json`,
        response: { select: 'items[0].{id: id, name: name}' },
        outputSchema: {
          type: 'object',
          properties: { id: { type: 'integer' }, name: { type: 'string' } },
          required: ['id', 'name'],
        },
      });
      await defineTool({
        name: 'wrong_schema',
        url: `${api.origin}/json`,
        response: { select: 'items[0]' },
        outputSchema: { type: 'object', properties: { id: { type: 'string' } } },
      });
      const names = await call('user_names');
      expect(names.structuredContent).toEqual({ result: ['Grace', 'Linus'] });
      expect(textOf(names)).toBe('["Grace","Linus"]');

      const listed = (await client.listTools()).tools.find((tool) => tool.name === 'first_user');
      expect(listed?.outputSchema).toMatchObject({ required: ['id', 'name'] });
      const first = await call('first_user');
      expect(first.isError).toBeFalsy();
      expect(first.structuredContent).toEqual({ id: 1, name: 'Ada' });

      const wrong = await call('wrong_schema');
      expect(wrong.isError).toBe(true);
      expect(textOf(wrong)).toContain("does not match the tool's output schema: id must be string");
    });

    it('returns images, audio and other binaries as MCP content by content type', async () => {
      const api = apis.shaping;
      await defineTool({ name: 'bin_png', url: `${api.origin}/binary/png` });
      await defineTool({ name: 'bin_wav', url: `${api.origin}/binary/wav` });
      await defineTool({ name: 'bin_pdf', url: `${api.origin}/binary/pdf` });
      const { png, wav, pdf } = FAULT_API_BINARIES;
      expect((await call('bin_png')).content).toEqual([
        { type: 'image', data: png.bytes.toString('base64'), mimeType: 'image/png' },
      ]);
      expect((await call('bin_wav')).content).toEqual([
        { type: 'audio', data: wav.bytes.toString('base64'), mimeType: 'audio/wav' },
      ]);
      expect((await call('bin_pdf')).content).toEqual([
        {
          type: 'resource',
          resource: {
            uri: `${api.origin}/binary/pdf`,
            mimeType: 'application/pdf',
            blob: pdf.bytes.toString('base64'),
          },
        },
      ]);
    });
  });
});

/** A config file whose catalog section declares a REST tool (shaped, limited) and a command tool. */
function configFileText(origin: string): string {
  return `tools:
  - name: config_user
    integration: rest
    integrationConfig:
      description: One user from the configured API.
      method: GET
      url: ${origin}/json
      query: { page: { from: page } }
      inputSchema:
        type: object
        properties: { page: { type: integer, minimum: 0 } }
        required: [page]
      response: { select: 'items[1].{name: name}' }
      outputSchema:
        type: object
        properties: { name: { type: string } }
        required: [name]
      rateLimit: { limit: 2, intervalMs: 60000 }
      queueTimeoutMs: 0
  - name: config_echo
    integration: command
    integrationConfig:
      command: ['${process.execPath}', '-e', 'process.stdout.write(process.argv[1])', '{text}']
      inputSchema: { type: object, properties: { text: { type: string } }, required: [text] }
`;
}
