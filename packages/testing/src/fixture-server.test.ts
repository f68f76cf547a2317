import {
  Client,
  InMemoryTransport,
  SSEClientTransport,
  StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import type { NotificationMethod, Progress } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFixtureServer, FIXTURE_BULK_TOOL_COUNT } from './fixture-server.ts';
import { startHttpFixture } from './http-fixture.ts';
import { startSseFixture } from './sse-fixture.ts';
import { stdioFixtureCommand } from './stdio-fixture.ts';

/** A connected client plus whatever must be torn down after it. */
interface Connection {
  client: Client;
  close(): Promise<void>;
}

const NAME = 'upstream-a';
const REQUEST = { timeout: 10_000 };

function newClient(): Client {
  return new Client({ name: 'fixture-test', version: '1.0.0' });
}

// The same protocol suite runs over every way a fixture can be served.
const connectors: Record<string, () => Promise<Connection>> = {
  'in-memory': async () => {
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    const server = createFixtureServer({ name: NAME });
    await server.connect(serverTransport);
    const client = newClient();
    await client.connect(clientTransport, REQUEST);
    return { client, close: async () => void (await Promise.allSettled([client.close(), server.close()])) };
  },
  stdio: async () => {
    const client = newClient();
    await client.connect(
      new StdioClientTransport({ ...stdioFixtureCommand(NAME), stderr: 'ignore' }),
      REQUEST,
    );
    return { client, close: () => client.close() };
  },
  'streamable http': async () => {
    const fixture = await startHttpFixture({ name: NAME });
    const client = newClient();
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(fixture.url)), REQUEST);
    } catch (error) {
      await fixture.close();
      throw error;
    }
    return { client, close: async () => void (await client.close().finally(() => fixture.close())) };
  },
  sse: async () => {
    const fixture = await startSseFixture({ name: NAME });
    const client = newClient();
    try {
      await client.connect(new SSEClientTransport(new URL(fixture.url)), REQUEST);
    } catch (error) {
      await fixture.close();
      throw error;
    }
    return { client, close: async () => void (await client.close().finally(() => fixture.close())) };
  },
};

/** Resolves with the next notification `method` the client receives; rejects after `ms`. */
function nextNotification(client: Client, method: NotificationMethod, ms = 5_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${method} within ${ms} ms`)), ms);
    client.setNotificationHandler(method, (notification) => {
      clearTimeout(timer);
      client.removeNotificationHandler(method);
      resolve(notification);
    });
  });
}

function textOf(result: { content?: unknown }): string {
  const [first] = result.content as { type: string; text?: string }[];
  return first?.text ?? '';
}

describe.each(Object.keys(connectors))('fixture server over %s', (transportName) => {
  let connection: Connection;
  let client: Client;

  beforeEach(async () => {
    connection = await connectors[transportName]!();
    client = connection.client;
  });
  afterEach(async () => {
    await connection.close();
  });

  it('identifies itself and lists the fixture tools', async () => {
    expect(client.getServerVersion()?.name).toBe(NAME);
    expect(client.getServerCapabilities()).toMatchObject({
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { listChanged: true, subscribe: true },
      completions: {},
      logging: {},
    });

    const { tools } = await client.listTools(undefined, REQUEST);
    const names = tools.map((tool) => tool.name);
    expect(names).toEqual(
      expect.arrayContaining(['echo', 'add', 'whoami', 'fail', 'slow', 'add_tool', 'pid']),
    );
    expect(names.filter((name) => name.startsWith('bulk_'))).toHaveLength(FIXTURE_BULK_TOOL_COUNT);
    expect(tools.find((tool) => tool.name === 'add')?.outputSchema).toMatchObject({
      properties: { sum: { type: 'number' } },
    });
  });

  it('answers echo, add, whoami, fail, pid and bulk tools', async () => {
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'hi' } }, REQUEST))).toBe(
      'Echo: hi',
    );

    const sum = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } }, REQUEST);
    expect(sum.structuredContent).toEqual({ sum: 5 });
    expect(textOf(sum)).toBe('5');

    expect(textOf(await client.callTool({ name: 'whoami' }, REQUEST))).toBe(NAME);

    const failure = await client.callTool({ name: 'fail' }, REQUEST);
    expect(failure.isError).toBe(true);
    expect(textOf(failure)).toBe('fixture failure');

    expect(textOf(await client.callTool({ name: 'pid' }, REQUEST))).toMatch(/^\d+$/);
    expect(textOf(await client.callTool({ name: 'bulk_29' }, REQUEST))).toBe('29');
  });

  it('reports progress for slow when the caller asks for it', async () => {
    const progress: Progress[] = [];
    const result = await client.callTool(
      { name: 'slow', arguments: { ms: 100 } },
      { ...REQUEST, onprogress: (update) => progress.push(update) },
    );
    expect(textOf(result)).toBe('slept 100');
    expect(progress).toEqual([
      { progress: 0, total: 4, message: 'slept 0 of 100 ms' },
      { progress: 1, total: 4, message: 'slept 25 of 100 ms' },
      { progress: 2, total: 4, message: 'slept 50 of 100 ms' },
      { progress: 3, total: 4, message: 'slept 75 of 100 ms' },
    ]);
  });

  it('stops slow when the caller cancels, and keeps serving', async () => {
    const errors: Error[] = [];
    client.onerror = (error) => errors.push(error);
    const abort = new AbortController();
    // The first progress notification comes at once, so this aborts a call that is surely in flight.
    const call = client.callTool(
      { name: 'slow', arguments: { ms: 300 } },
      { ...REQUEST, signal: abort.signal, onprogress: () => abort.abort(new Error('caller gave up')) },
    );
    await expect(call).rejects.toThrow('caller gave up');

    // Had the server ignored notifications/cancelled, its late result would reach the client as a
    // response to an unknown request id.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(errors).toEqual([]);
    expect(
      textOf(await client.callTool({ name: 'echo', arguments: { message: 'still here' } }, REQUEST)),
    ).toBe('Echo: still here');
  });

  it('announces a tool added at runtime with tools/list_changed', async () => {
    // Over streamable HTTP the notification travels on the GET stream the client opens after
    // initialize; a round trip first makes sure that stream is up (the SDK drops it otherwise).
    await client.ping(REQUEST);
    const changed = nextNotification(client, 'notifications/tools/list_changed');
    expect(textOf(await client.callTool({ name: 'add_tool', arguments: { name: 'late' } }, REQUEST))).toBe(
      'added late',
    );
    await changed;

    const { tools } = await client.listTools(undefined, { ...REQUEST, cacheMode: 'refresh' });
    expect(tools.map((tool) => tool.name)).toContain('late');
    expect(textOf(await client.callTool({ name: 'late' }, REQUEST))).toBe(`late from ${NAME}`);

    // Called again for the same tool, add_tool changes its definition (a "rug pull", for tool-pinning tests).
    const redefined = await client.callTool(
      { name: 'add_tool', arguments: { name: 'late', description: 'Changed.' } },
      REQUEST,
    );
    expect(textOf(redefined)).toBe('changed late');
    const { tools: after } = await client.listTools(undefined, { ...REQUEST, cacheMode: 'refresh' });
    expect(after.find((tool) => tool.name === 'late')?.description).toBe('Changed.');

    // A built-in tool's name is refused.
    const duplicate = await client.callTool({ name: 'add_tool', arguments: { name: 'echo' } }, REQUEST);
    expect(duplicate.isError).toBe(true);
  });

  it('renders the greeting prompt and completes its argument', async () => {
    const { prompts } = await client.listPrompts(undefined, REQUEST);
    expect(prompts.map((prompt) => prompt.name)).toEqual(['greeting']);

    const prompt = await client.getPrompt({ name: 'greeting', arguments: { name: 'Ada' } }, REQUEST);
    expect(prompt.messages).toEqual([{ role: 'user', content: { type: 'text', text: 'Hello, Ada!' } }]);

    const completion = await client.complete(
      { ref: { type: 'ref/prompt', name: 'greeting' }, argument: { name: 'name', value: 'Al' } },
      REQUEST,
    );
    expect(completion.completion.values).toEqual(['Alice', 'Albert']);
  });

  it('reads the static resource and the item template, and completes the template variable', async () => {
    const { resources } = await client.listResources(undefined, REQUEST);
    expect(resources.map((resource) => resource.uri)).toEqual(
      expect.arrayContaining(['fixture://info', 'fixture://items/1']),
    );
    const { resourceTemplates } = await client.listResourceTemplates(undefined, REQUEST);
    expect(resourceTemplates.map((template) => template.uriTemplate)).toEqual(['fixture://items/{id}']);

    const info = await client.readResource({ uri: 'fixture://info' }, REQUEST);
    expect(info.contents).toEqual([
      { uri: 'fixture://info', mimeType: 'text/plain', text: `fixture ${NAME}` },
    ]);

    const item = await client.readResource({ uri: 'fixture://items/2' }, REQUEST);
    expect(item.contents).toEqual([
      { uri: 'fixture://items/2', mimeType: 'text/plain', text: `item 2 from ${NAME}` },
    ]);

    const completion = await client.complete(
      { ref: { type: 'ref/resource', uri: 'fixture://items/{id}' }, argument: { name: 'id', value: '' } },
      REQUEST,
    );
    expect(completion.completion.values).toEqual(['1', '2', '3']);
  });

  it('sends resources/updated for a subscribed resource', async () => {
    await client.ping(REQUEST);
    const notTouched = await client.callTool({
      name: 'touch_resource',
      arguments: { uri: 'fixture://info' },
    });
    expect(textOf(notTouched)).toBe('not subscribed to fixture://info');

    await client.subscribeResource({ uri: 'fixture://info' }, REQUEST);
    const updated = nextNotification(client, 'notifications/resources/updated');
    await client.callTool({ name: 'touch_resource', arguments: { uri: 'fixture://info' } }, REQUEST);
    expect(await updated).toMatchObject({ params: { uri: 'fixture://info' } });
  });
});

describe('createFixtureServer', () => {
  it('sends its instructions on initialize', async () => {
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    const server = createFixtureServer({ name: NAME, instructions: 'Call echo first.' });
    const client = newClient();
    try {
      await server.connect(serverTransport);
      await client.connect(clientTransport, REQUEST);
      expect(client.getInstructions()).toBe('Call echo first.');
    } finally {
      await Promise.allSettled([client.close(), server.close()]);
    }
  });
});
