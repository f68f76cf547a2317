import { setTimeout as sleep } from 'node:timers/promises';
import {
  acceptedContent,
  completable,
  inputRequired,
  McpServer,
  ResourceTemplate,
} from '@modelcontextprotocol/server';
import type { CallToolResult, ServerContext } from '@modelcontextprotocol/server';
import * as z from 'zod';

/** Options for {@link createFixtureServer}. */
export interface FixtureServerOptions {
  /** Reported as `serverInfo.name` and by the `whoami` tool, so tests can tell upstreams apart. */
  name: string;
  /** Sent to clients in the `initialize` result. */
  instructions?: string;
}

/** Number of `bulk_<i>` tools every fixture registers (`bulk_0` … `bulk_29`). */
export const FIXTURE_BULK_TOOL_COUNT = 30;

/** Longest sleep the `slow` tool accepts, in milliseconds. */
export const FIXTURE_SLOW_MAX_MS = 30_000;

const PROMPT_NAMES = ['Alice', 'Albert', 'Bob'];
const ITEM_IDS = ['1', '2', '3'];
const SLOW_PROGRESS_STEPS = 4;

function text(value: string): CallToolResult {
  return { content: [{ type: 'text', text: value }] };
}

function startingWith(candidates: string[], prefix: string | undefined): string[] {
  return candidates.filter((candidate) => candidate.startsWith(prefix ?? ''));
}

/**
 * Creates an MCP server with a known set of tools, prompts and resources: the upstream that gateway tests
 * federate. Every instance is independent; serve it over any transport with `server.connect(transport)`.
 *
 * Tools: `echo`, `add` (structured output), `whoami`, `fail` (`isError` result), `slow` (progress and
 * cancellation), `add_tool` (runtime registration, emits tools/list_changed), `touch_resource` (emits
 * resources/updated if the client subscribed to the URI), `pid`, and `bulk_0` … `bulk_29`.
 * Client-facing tools: `client_info` (the capabilities and client info this server was initialized with),
 * `ask_roots` (roots/list), `roots_changes` (how many roots/list_changed arrived), `ask_user` (form elicitation),
 * `ask_url` (URL-mode elicitation), `ask_model` (sampling), `ask_then_cancel` (an elicitation it cancels after
 * `ms`), `log` (log messages at each level, then a result).
 * Prompt: `greeting`. Resources: `fixture://info` and the template `fixture://items/{id}`.
 */
export function createFixtureServer(options: FixtureServerOptions): McpServer {
  const { name } = options;
  const server = new McpServer(
    { name, version: '1.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        prompts: { listChanged: true },
        resources: { listChanged: true, subscribe: true },
        completions: {},
        logging: {},
      },
      ...(options.instructions === undefined ? {} : { instructions: options.instructions }),
    },
  );

  const subscriptions = new Set<string>();
  registerTools(server, name, subscriptions);
  registerClientFacingTools(server);
  registerPrompts(server);
  registerResources(server, name, subscriptions);
  return server;
}

function registerTools(server: McpServer, name: string, subscriptions: Set<string>): void {
  let cancelledCalls = 0;
  const added = new Map<string, ReturnType<McpServer['registerTool']>>();
  server.registerTool(
    'echo',
    { description: 'Echoes the message back.', inputSchema: z.object({ message: z.string() }) },
    ({ message }) => text(`Echo: ${message}`),
  );

  server.registerTool(
    'add',
    {
      description: 'Adds two numbers.',
      inputSchema: z.object({ a: z.number(), b: z.number() }),
      outputSchema: z.object({ sum: z.number() }),
    },
    ({ a, b }) => ({ ...text(String(a + b)), structuredContent: { sum: a + b } }),
  );

  server.registerTool('whoami', { description: 'Returns the name of this fixture server.' }, () =>
    text(name),
  );

  server.registerTool('fail', { description: 'Always returns an error result.' }, () => ({
    ...text('fixture failure'),
    isError: true,
  }));

  server.registerTool(
    'slow',
    {
      description: 'Sleeps for `ms` milliseconds, reporting progress; stops when cancelled.',
      inputSchema: z.object({ ms: z.number().min(0).max(FIXTURE_SLOW_MAX_MS) }),
    },
    async ({ ms }, ctx) => {
      try {
        await sleepWithProgress(ms, ctx);
      } catch (error) {
        if (ctx.mcpReq.signal.aborted) cancelledCalls += 1;
        throw error;
      }
      return text(`slept ${ms}`);
    },
  );

  server.registerTool(
    'add_tool',
    {
      description:
        'Registers a new tool at runtime, which emits notifications/tools/list_changed; called again with the same ' +
        'name and a new description, it changes that tool (a "rug pull", for tool-pinning tests).',
      inputSchema: z.object({ name: z.string().min(1), description: z.string().optional() }),
    },
    ({ name: toolName, description }) => {
      const existing = added.get(toolName);
      if (existing) {
        existing.update({ description: description ?? existing.description });
        return text(`changed ${toolName}`);
      }
      try {
        const tool = server.registerTool(
          toolName,
          { description: description ?? `Added at runtime by add_tool.` },
          () => text(`${toolName} from ${name}`),
        );
        added.set(toolName, tool);
      } catch (error) {
        return { ...text(error instanceof Error ? error.message : String(error)), isError: true };
      }
      return text(`added ${toolName}`);
    },
  );

  server.registerTool(
    'touch_resource',
    {
      description: 'Sends notifications/resources/updated for the URI if the client subscribed to it.',
      inputSchema: z.object({ uri: z.string() }),
    },
    async ({ uri }) => {
      if (!subscriptions.has(uri)) return text(`not subscribed to ${uri}`);
      await server.server.sendResourceUpdated({ uri });
      return text(`updated ${uri}`);
    },
  );

  server.registerTool(
    'cancelled_calls',
    { description: 'How many `slow` calls were cancelled by the client.' },
    () => text(String(cancelledCalls)),
  );

  server.registerTool('pid', { description: 'Returns the process id serving this fixture.' }, () =>
    text(String(process.pid)),
  );

  for (let index = 0; index < FIXTURE_BULK_TOOL_COUNT; index += 1) {
    server.registerTool(`bulk_${index}`, { description: `Bulk tool ${index}.` }, () => text(String(index)));
  }
}

async function sleepWithProgress(ms: number, ctx: ServerContext): Promise<void> {
  const { signal, _meta } = ctx.mcpReq;
  const progressToken = _meta?.progressToken;
  for (let step = 0; step < SLOW_PROGRESS_STEPS; step += 1) {
    // Progress goes out at the start of each step, never right before the result: SDK v2's Protocol
    // dispatches notifications a microtask late, so one arriving with the response is dropped.
    if (progressToken !== undefined) {
      await ctx.mcpReq.notify({
        method: 'notifications/progress',
        params: {
          progressToken,
          progress: step,
          total: SLOW_PROGRESS_STEPS,
          message: `slept ${Math.round((ms * step) / SLOW_PROGRESS_STEPS)} of ${ms} ms`,
        },
      });
    }
    // Rejects with an AbortError on cancellation; the SDK then sends no response, as the spec requires.
    await sleep(ms / SLOW_PROGRESS_STEPS, undefined, { signal });
  }
}

function registerPrompts(server: McpServer): void {
  server.registerPrompt(
    'greeting',
    {
      description: 'Greets someone by name.',
      argsSchema: z.object({
        name: completable(z.string(), (value) => startingWith(PROMPT_NAMES, value)),
      }),
    },
    ({ name }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Hello, ${name}!` } }],
    }),
  );
}

function registerResources(server: McpServer, name: string, subscriptions: Set<string>): void {
  server.registerResource(
    'info',
    'fixture://info',
    { mimeType: 'text/plain', description: 'Names the fixture server.' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: `fixture ${name}` }] }),
  );

  const items = new ResourceTemplate('fixture://items/{id}', {
    list: () => ({
      resources: ITEM_IDS.map((id) => ({
        uri: `fixture://items/${id}`,
        name: `item ${id}`,
        mimeType: 'text/plain',
      })),
    }),
    complete: { id: (value) => startingWith(ITEM_IDS, value) },
  });
  server.registerResource(
    'item',
    items,
    { mimeType: 'text/plain', description: 'One numbered item.' },
    (uri, variables) => {
      const id = variables.id;
      return {
        contents: [
          {
            uri: uri.href,
            mimeType: 'text/plain',
            text: `item ${Array.isArray(id) ? id.join(',') : id} from ${name}`,
          },
        ],
      };
    },
  );

  // McpServer does not serve subscriptions itself; these record them for `touch_resource`.
  server.server.setRequestHandler('resources/subscribe', (request) => {
    subscriptions.add(request.params.uri);
    return {};
  });
  server.server.setRequestHandler('resources/unsubscribe', (request) => {
    subscriptions.delete(request.params.uri);
    return {};
  });
}

/** Tools that reach back to the client: they prove server→client requests and notifications pass a proxy. */
function registerClientFacingTools(server: McpServer): void {
  let rootsChanges = 0;
  server.server.setNotificationHandler('notifications/roots/list_changed', () => {
    rootsChanges += 1;
  });

  server.registerTool('client_info', { description: 'What the client declared at initialize.' }, () =>
    text(
      JSON.stringify({
        capabilities: server.server.getClientCapabilities() ?? null,
        clientInfo: server.server.getClientVersion() ?? null,
      }),
    ),
  );

  server.registerTool('ask_roots', { description: 'Asks the client for its roots.' }, async () => {
    const result = await server.server.listRoots();
    return text(JSON.stringify(result.roots));
  });

  server.registerTool('roots_changes', { description: 'How many roots/list_changed arrived.' }, () =>
    text(String(rootsChanges)),
  );

  server.registerTool(
    'ask_user',
    {
      description: 'Asks the user a question through form elicitation.',
      inputSchema: z.object({ question: z.string() }),
    },
    async ({ question }, ctx) => {
      const answer = await ctx.mcpReq.elicitInput({
        mode: 'form',
        message: question,
        requestedSchema: { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] },
      });
      return text(JSON.stringify(answer));
    },
  );

  server.registerTool(
    'ask_url',
    {
      description: 'Sends the user to a URL through URL-mode elicitation.',
      inputSchema: z.object({ url: z.string() }),
    },
    async ({ url }, ctx) => {
      const answer = await ctx.mcpReq.elicitInput({
        mode: 'url',
        message: 'Please sign in',
        url,
        elicitationId: 'fixture-elicitation-1',
      });
      return text(JSON.stringify(answer));
    },
  );

  server.registerTool(
    'ask_model',
    {
      description: "Asks the client's model through sampling.",
      inputSchema: z.object({ prompt: z.string() }),
    },
    async ({ prompt }, ctx) => {
      const reply = await ctx.mcpReq.requestSampling({
        messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
        maxTokens: 50,
      });
      return text(JSON.stringify(reply.content));
    },
  );

  server.registerTool(
    'ask_then_cancel',
    {
      description: 'Starts an elicitation and cancels it after `ms` milliseconds.',
      inputSchema: z.object({ ms: z.number().min(1).max(10_000) }),
    },
    async ({ ms }, ctx) => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new Error('changed my mind')), ms);
      try {
        await ctx.mcpReq.elicitInput(
          { mode: 'form', message: 'never mind', requestedSchema: { type: 'object', properties: {} } },
          { signal: controller.signal },
        );
        return text('answered');
      } catch {
        return text('cancelled');
      } finally {
        clearTimeout(timer);
      }
    },
  );

  // The 2026-07-28 way to ask: return input_required and read the answer from the retry's inputResponses. The SDK
  // turns it into a real elicitation/create for 2025-era clients.
  server.registerTool(
    'confirm',
    {
      description: 'Asks the user to confirm, the multi-round-trip way.',
      inputSchema: z.object({ action: z.string() }),
    },
    (input, ctx) => {
      const answer = acceptedContent(ctx.mcpReq.inputResponses, 'confirm', z.object({ ok: z.boolean() }));
      if (answer === undefined) {
        return inputRequired({
          inputRequests: {
            confirm: inputRequired.elicit({
              message: `Really ${input.action}?`,
              requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
            }),
          },
        });
      }
      return text(answer.ok ? `confirmed ${input.action}` : `declined ${input.action}`);
    },
  );

  server.registerTool(
    'log',
    {
      description: 'Sends one log message per level, then returns.',
      inputSchema: z.object({ tag: z.string() }),
    },
    async ({ tag }, ctx) => {
      for (const level of ['debug', 'info', 'warning', 'error'] as const) {
        await ctx.mcpReq.log(level, { tag, level }, 'fixture');
      }
      return text(`logged ${tag}`);
    },
  );
}
