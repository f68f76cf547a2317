import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Client,
  SSEClientTransport,
  StreamableHTTPClientTransport,
  type Transport,
} from '@modelcontextprotocol/client';
import { startHttpFixture, stdioFixtureCommand, type HttpFixture } from '@mcp-gateway/testing';
import { createWebSocketClientTransport } from '@mcp-gateway/transport-websocket';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const cliPath = fileURLToPath(new URL('./cli.ts', import.meta.url));
const tsxLoader = createRequire(import.meta.url).resolve('tsx/esm');
import { startGateway, type RunningGateway } from './start-gateway.ts';
import { testConfig, waitFor, waitForReadyUpstreams } from './test-support.ts';

type ToolResult = { content: Array<{ type: string; text?: string }> };
const text = (result: unknown) => (result as ToolResult).content.map((c) => c.text ?? '').join('');

/**
 * One protocol-behaviour suite, run over every downstream transport the gateway serves. Upstreams: `up` (a stdio
 * fixture the gateway starts) and `web` (a streamable-HTTP fixture). Whatever a client and a server can do directly,
 * they must be able to do through the gateway.
 */
export const downstreamTransports: Record<
  string,
  (gateway: RunningGateway) => Transport | Promise<Transport>
> = {
  'streamable-http': (gateway) => new StreamableHTTPClientTransport(new URL(gateway.mcpUrl)),
  sse: (gateway) => new SSEClientTransport(new URL(`${gateway.url}/sse`)),
  websocket: (gateway) => createWebSocketClientTransport({ url: `${gateway.url.replace('http', 'ws')}/ws` }),
  // The stdio wrapper as Claude Desktop would run it: a child process speaking stdio, relaying to the gateway URL.
  'stdio wrapper': (gateway) =>
    new StdioClientTransport({
      command: process.execPath,
      args: ['--import', tsxLoader, cliPath, 'wrapper', '--url', gateway.mcpUrl, '--log-level', 'error'],
      stderr: 'pipe',
    }),
};

interface ClientOptions {
  capabilities?: Record<string, unknown>;
  name?: string;
}

describe.each(Object.entries(downstreamTransports))(
  'protocol passthrough over %s',
  (_name, openTransport) => {
    let gateway: RunningGateway;
    let web: HttpFixture;
    let config: Awaited<ReturnType<typeof testConfig>>;
    const clients: Client[] = [];

    const connect = async (options: ClientOptions = {}): Promise<Client> => {
      const client = new Client(
        { name: options.name ?? 'fidelity-client', version: '1.0.0' },
        { capabilities: options.capabilities ?? {} },
      );
      await client.connect(await openTransport(gateway));
      clients.push(client);
      return client;
    };

    beforeAll(async () => {
      web = await startHttpFixture({ name: 'web' });
      config = await testConfig();
      gateway = await startGateway({
        config,
        gateways: [
          {
            name: 'up',
            transport: 'stdio',
            ...stdioFixtureCommand('up'),
            env: {},
            headers: {},
            enabled: true,
            tags: [],
          },
          {
            name: 'web',
            transport: 'streamable-http',
            url: web.url,
            args: [],
            env: {},
            headers: {},
            enabled: true,
            tags: [],
          },
        ],
      });
      await waitForReadyUpstreams(gateway, 2);
    });

    afterAll(async () => {
      for (const client of clients) await client.close().catch(() => undefined);
      await gateway?.close();
      await web?.close();
      await config?.[Symbol.asyncDispose]();
    });

    it("answers ping and offers the union of the upstreams' capabilities", async () => {
      const client = await connect();
      await expect(client.ping()).resolves.toEqual({});
      const capabilities = client.getServerCapabilities();
      expect(capabilities).toMatchObject({
        tools: { listChanged: true },
        prompts: { listChanged: true },
        resources: { listChanged: true, subscribe: true },
        completions: {},
        logging: {},
      });
    });

    it("relays progress with the caller's token, every notification before the response", async () => {
      const client = await connect();
      for (const tool of ['up__slow', 'web__slow']) {
        const updates: number[] = [];
        const result = await client.callTool(
          { name: tool, arguments: { ms: 200 } },
          { onprogress: (progress) => updates.push(progress.progress) },
        );
        expect(text(result)).toBe('slept 200');
        // A notification arriving after its response would be dropped by the client: all four must be here.
        expect(updates).toEqual([0, 1, 2, 3]);
      }
    });

    it('cancels upstream when the client cancels', async () => {
      const client = await connect();
      const before = Number(text(await client.callTool({ name: 'web__cancelled_calls', arguments: {} })));
      const controller = new AbortController();
      const call = client.callTool(
        { name: 'web__slow', arguments: { ms: 5_000 } },
        { signal: controller.signal },
      );
      setTimeout(() => controller.abort(), 200);
      await expect(call).rejects.toThrow();
      await waitFor('the upstream to see the cancellation', async () => {
        const after = Number(text(await client.callTool({ name: 'web__cancelled_calls', arguments: {} })));
        return after === before + 1 ? true : undefined;
      });
    });

    it('passes list_changed through to the client', async () => {
      const client = await connect();
      let changed = 0;
      client.setNotificationHandler('notifications/tools/list_changed', () => {
        changed += 1;
      });
      await client.callTool({ name: 'web__add_tool', arguments: { name: `added_${Date.now()}` } });
      await waitFor('tools/list_changed', () => (changed > 0 ? true : undefined));
    });

    it('sets the log level and relays log messages at or above it to the caller', async () => {
      const client = await connect();
      const received: Array<{ level: string; data: unknown }> = [];
      client.setNotificationHandler('notifications/message', (notification) => {
        received.push({ level: notification.params.level, data: notification.params.data });
      });
      await client.setLoggingLevel('warning');
      const tag = `t${Date.now()}`;
      expect(text(await client.callTool({ name: 'up__log', arguments: { tag } }))).toBe(`logged ${tag}`);
      await waitFor('the warning and error log lines', () =>
        received.filter((r) => (r.data as { tag?: string }).tag === tag).length >= 2 ? true : undefined,
      );
      const mine = received.filter((r) => (r.data as { tag?: string }).tag === tag).map((r) => r.level);
      expect(mine).toEqual(['warning', 'error']);
    });

    it('delivers resources/updated to subscribers only, under the public URI', async () => {
      const subscriber = await connect();
      const bystander = await connect();
      const updates: string[] = [];
      const bystanderUpdates: string[] = [];
      subscriber.setNotificationHandler(
        'notifications/resources/updated',
        (n) => void updates.push(n.params.uri),
      );
      bystander.setNotificationHandler(
        'notifications/resources/updated',
        (n) => void bystanderUpdates.push(n.params.uri),
      );
      await subscriber.subscribeResource({ uri: 'mcpgw://web/fixture://info' });
      expect(
        text(
          await subscriber.callTool({ name: 'web__touch_resource', arguments: { uri: 'fixture://info' } }),
        ),
      ).toBe('updated fixture://info');
      await waitFor('resources/updated', () => (updates.length > 0 ? true : undefined));
      expect(updates).toEqual(['mcpgw://web/fixture://info']);
      await subscriber.unsubscribeResource({ uri: 'mcpgw://web/fixture://info' });
      expect(
        text(
          await subscriber.callTool({ name: 'web__touch_resource', arguments: { uri: 'fixture://info' } }),
        ),
      ).toBe('not subscribed to fixture://info');
      expect(bystanderUpdates).toEqual([]);
    });

    it('completes arguments through the owning upstream', async () => {
      const client = await connect();
      const result = await client.complete({
        ref: { type: 'ref/prompt', name: 'up__greeting' },
        argument: { name: 'name', value: 'B' },
      });
      expect(result.completion.values).toEqual(['Bob']);
    });

    it('relays sampling to exactly the client whose call caused it', async () => {
      const asked: Record<string, number> = { a: 0, b: 0 };
      const make = async (who: 'a' | 'b') => {
        const client = await connect({ name: who, capabilities: { sampling: {} } });
        client.setRequestHandler('sampling/createMessage', async () => {
          asked[who] = (asked[who] ?? 0) + 1;
          return { role: 'assistant', content: { type: 'text', text: `model of ${who}` }, model: `m-${who}` };
        });
        return client;
      };
      const [a, b] = await Promise.all([make('a'), make('b')]);
      const [fromA, fromB] = await Promise.all([
        a.callTool({ name: 'up__ask_model', arguments: { prompt: 'hi' } }),
        b.callTool({ name: 'web__ask_model', arguments: { prompt: 'hi' } }),
      ]);
      expect(text(fromA)).toContain('model of a');
      expect(text(fromB)).toContain('model of b');
      expect(asked).toEqual({ a: 1, b: 1 });
    });

    it("relays form and URL elicitation, and shows upstreams the client's capabilities", async () => {
      const client = await connect({ capabilities: { elicitation: { form: {}, url: {} } } });
      const seen: string[] = [];
      client.setRequestHandler('elicitation/create', async (request) => {
        seen.push(request.params.mode ?? 'form');
        return request.params.mode === 'url'
          ? { action: 'accept' }
          : { action: 'accept', content: { answer: '42' } };
      });
      expect(
        JSON.parse(text(await client.callTool({ name: 'up__ask_user', arguments: { question: 'why?' } }))),
      ).toEqual({
        action: 'accept',
        content: { answer: '42' },
      });
      expect(
        JSON.parse(
          text(
            await client.callTool({ name: 'web__ask_url', arguments: { url: 'https://example.com/auth' } }),
          ),
        ),
      ).toEqual({ action: 'accept' });
      expect(seen).toEqual(['form', 'url']);
      const info = JSON.parse(text(await client.callTool({ name: 'up__client_info', arguments: {} }))) as {
        capabilities: Record<string, unknown>;
      };
      expect(info.capabilities).toMatchObject({ elicitation: { form: {}, url: {} } });
    });

    it('passes a cancellation of a server→client request on to the client', async () => {
      const client = await connect({ capabilities: { elicitation: { form: {} } } });
      let aborted = false;
      client.setRequestHandler('elicitation/create', (_request, ctx) => {
        return new Promise((resolve) => {
          ctx.mcpReq.signal.addEventListener('abort', () => {
            aborted = true;
            resolve({ action: 'cancel' });
          });
        });
      });
      expect(text(await client.callTool({ name: 'web__ask_then_cancel', arguments: { ms: 200 } }))).toBe(
        'cancelled',
      );
      await waitFor('the client handler to be aborted', () => (aborted ? true : undefined));
    });

    it('answers roots/list from the client and forwards roots/list_changed', async () => {
      const client = await connect({ capabilities: { roots: { listChanged: true } } });
      client.setRequestHandler('roots/list', async () => ({
        roots: [{ uri: 'file:///work', name: 'work' }],
      }));
      expect(JSON.parse(text(await client.callTool({ name: 'up__ask_roots', arguments: {} })))).toEqual([
        { uri: 'file:///work', name: 'work' },
      ]);
      await client.sendRootsListChanged();
      await waitFor('roots/list_changed upstream', async () =>
        text(await client.callTool({ name: 'up__roots_changes', arguments: {} })) === '1' ? true : undefined,
      );
    });
  },
);
