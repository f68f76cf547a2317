import { setTimeout as sleep } from 'node:timers/promises';
import { completable, fromJsonSchema, McpServer, ResourceTemplate } from '@modelcontextprotocol/server';
import type { CallToolResult, ElicitRequestFormParams, ServerContext } from '@modelcontextprotocol/server';
import * as z from 'zod';

/** Options for {@link createConformanceServer}. */
export interface ConformanceServerOptions {
  /** Reported as `serverInfo.name`. Default `'mcp-gateway-conformance-fixture'`. */
  name?: string;
}

/** A 1×1 red PNG, base64-encoded: the image content the scenarios ask for. */
const RED_PIXEL_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';

/** Tools in the order `tools/list` returns them; every conformance scenario calls one of these by name. */
export const CONFORMANCE_TOOL_NAMES = [
  'test_simple_text',
  'test_image_content',
  'test_audio_content',
  'test_embedded_resource',
  'test_multiple_content_types',
  'json_schema_2020_12_tool',
  'test_tool_with_logging',
  'test_error_handling',
  'test_tool_with_progress',
  'test_sampling',
  'test_reconnection',
  'test_elicitation',
  'test_elicitation_sep1034_defaults',
  'test_elicitation_sep1330_enums',
] as const;

const STEP_MS = 50;

function text(value: string): CallToolResult {
  return { content: [{ type: 'text', text: value }] };
}

/** A short mono 8 kHz 16-bit WAV of silence, base64-encoded (`audio/wav`). */
function silentWavBase64(sampleCount = 8): string {
  const sampleRate = 8000;
  const dataSize = sampleCount * 2;
  const wav = Buffer.alloc(44 + dataSize);
  wav.write('RIFF', 0, 'ascii');
  wav.writeUInt32LE(36 + dataSize, 4);
  wav.write('WAVE', 8, 'ascii');
  wav.write('fmt ', 12, 'ascii');
  wav.writeUInt32LE(16, 16); // fmt chunk size
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(sampleRate, 24);
  wav.writeUInt32LE(sampleRate * 2, 28); // byte rate
  wav.writeUInt16LE(2, 32); // block align
  wav.writeUInt16LE(16, 34); // bits per sample
  wav.write('data', 36, 'ascii');
  wav.writeUInt32LE(dataSize, 40);
  return wav.toString('base64');
}

/**
 * Creates the server the official conformance suite (`@modelcontextprotocol/conformance` 0.1.16, server
 * scenarios) expects: the fixed tools, resources and prompts its scenarios call by name, with the behaviour
 * each check asserts. Our own implementation, written from the scenario sources. Serve it over any transport;
 * `startConformanceHttpFixture` adds the HTTP-level parts (sessions, event store, Host/Origin checks).
 *
 * Server→client requests (sampling, elicitation) and notifications (log, progress) are sent as related to
 * the tool call, so over streamable HTTP they travel on that call's SSE stream.
 */
export function createConformanceServer(options: ConformanceServerOptions = {}): McpServer {
  const server = new McpServer(
    { name: options.name ?? 'mcp-gateway-conformance-fixture', version: '1.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        prompts: { listChanged: true },
        resources: { listChanged: true, subscribe: true },
        completions: {},
        logging: {},
      },
    },
  );
  registerContentTools(server);
  registerBehaviourTools(server);
  registerElicitationTools(server);
  registerResources(server);
  registerPrompts(server);
  return server;
}

function registerContentTools(server: McpServer): void {
  server.registerTool('test_simple_text', { description: 'Returns one text content block.' }, () =>
    text('This is a simple text response for testing.'),
  );

  server.registerTool(
    'test_image_content',
    { description: 'Returns one image content block (PNG).' },
    () => ({
      content: [{ type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' }],
    }),
  );

  server.registerTool(
    'test_audio_content',
    { description: 'Returns one audio content block (WAV).' },
    () => ({
      content: [{ type: 'audio', data: silentWavBase64(), mimeType: 'audio/wav' }],
    }),
  );

  server.registerTool(
    'test_embedded_resource',
    { description: 'Returns an embedded text resource.' },
    () => ({
      content: [
        {
          type: 'resource',
          resource: {
            uri: 'test://embedded-resource',
            mimeType: 'text/plain',
            text: 'This is an embedded resource content.',
          },
        },
      ],
    }),
  );

  server.registerTool(
    'test_multiple_content_types',
    { description: 'Returns text, image and embedded resource content together.' },
    () => ({
      content: [
        { type: 'text', text: 'Multiple content types test:' },
        { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' },
        {
          type: 'resource',
          resource: {
            uri: 'test://mixed-content-resource',
            mimeType: 'application/json',
            text: JSON.stringify({ test: 'data', value: 123 }),
          },
        },
      ],
    }),
  );

  server.registerTool(
    'json_schema_2020_12_tool',
    {
      description: 'Tool with JSON Schema 2020-12 features ($schema, $defs, additionalProperties).',
      // Given as raw JSON Schema so `$schema`, `$defs` and `$ref` reach tools/list exactly as written.
      inputSchema: fromJsonSchema<{ name?: string; address?: { street?: string; city?: string } }>({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        $defs: {
          address: {
            type: 'object',
            properties: { street: { type: 'string' }, city: { type: 'string' } },
          },
        },
        properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' } },
        additionalProperties: false,
      }),
    },
    (args) => text(`Received: ${JSON.stringify(args)}`),
  );
}

function registerBehaviourTools(server: McpServer): void {
  server.registerTool(
    'test_tool_with_logging',
    { description: 'Sends three info log notifications, 50 ms apart, while it runs.' },
    async (ctx) => {
      await ctx.mcpReq.log('info', 'Tool execution started');
      await sleep(STEP_MS);
      await ctx.mcpReq.log('info', 'Tool processing data');
      await sleep(STEP_MS);
      await ctx.mcpReq.log('info', 'Tool execution completed');
      return text('Tool with logging executed successfully');
    },
  );

  server.registerTool('test_error_handling', { description: 'Always fails (an isError result).' }, () => {
    // McpServer turns a thrown error into a tool result with `isError: true` and the message as text.
    throw new Error('This tool intentionally returns an error for testing');
  });

  server.registerTool(
    'test_tool_with_progress',
    { description: 'Reports progress 0, 50 and 100 of 100, 50 ms apart, when given a progress token.' },
    async (ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      for (const progress of [0, 50, 100]) {
        if (progressToken !== undefined) {
          await ctx.mcpReq.notify({
            method: 'notifications/progress',
            params: { progressToken, progress, total: 100, message: `progress ${progress}/100` },
          });
        }
        // Also after the last one: an SDK client dispatches a notification a microtask after reading it,
        // so a progress notification read together with the response would be dropped.
        await sleep(STEP_MS);
      }
      return text('Tool with progress executed successfully');
    },
  );

  server.registerTool(
    'test_sampling',
    {
      description: 'Asks the client to sample an LLM (sampling/createMessage) with the given prompt.',
      inputSchema: z.object({ prompt: z.string().describe('The prompt to send to the LLM') }),
    },
    async ({ prompt }, ctx) => {
      const result = await ctx.mcpReq.requestSampling(
        { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 },
        { relatedRequestId: ctx.mcpReq.id },
      );
      const blocks = Array.isArray(result.content) ? result.content : [result.content];
      const reply = blocks.map((block) => (block.type === 'text' ? block.text : `[${block.type}]`)).join('');
      return text(`LLM response: ${reply}`);
    },
  );

  server.registerTool(
    'test_reconnection',
    {
      description:
        'Closes its own SSE stream mid-call (SEP-1699 polling) when the transport allows it, then answers; ' +
        'the client gets the result by resuming with Last-Event-ID.',
    },
    async (ctx) => {
      const closeStream = ctx.http?.closeSSE;
      if (closeStream !== undefined) {
        await ctx.mcpReq.log('info', 'closing the SSE stream; reconnect to get the result');
        closeStream();
      }
      await sleep(2 * STEP_MS);
      return text(
        closeStream === undefined
          ? 'Reconnection test completed (stream not closed: no event store, or a pre-2025-11-25 client)'
          : 'Reconnection test completed successfully',
      );
    },
  );
}

async function elicit(ctx: ServerContext, params: ElicitRequestFormParams): Promise<CallToolResult> {
  const result = await ctx.mcpReq.elicitInput(params, { relatedRequestId: ctx.mcpReq.id });
  return text(
    `Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`,
  );
}

function registerElicitationTools(server: McpServer): void {
  server.registerTool(
    'test_elicitation',
    {
      description: 'Asks the client for a username and email (elicitation/create).',
      inputSchema: z.object({ message: z.string().describe('The message to show the user') }),
    },
    async ({ message }, ctx) => {
      const result = await ctx.mcpReq.elicitInput(
        {
          message,
          requestedSchema: {
            type: 'object',
            properties: {
              username: { type: 'string', description: "User's response" },
              email: { type: 'string', description: "User's email address" },
            },
            required: ['username', 'email'],
          },
        },
        { relatedRequestId: ctx.mcpReq.id },
      );
      return text(`User response: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`);
    },
  );

  server.registerTool(
    'test_elicitation_sep1034_defaults',
    { description: 'Elicits a form whose fields all carry defaults (SEP-1034).' },
    (ctx) =>
      elicit(ctx, {
        message: 'Please review your details; every field has a default',
        requestedSchema: {
          type: 'object',
          properties: {
            name: { type: 'string', description: 'User name', default: 'John Doe' },
            age: { type: 'integer', description: 'User age', default: 30 },
            score: { type: 'number', description: 'User score', default: 95.5 },
            status: {
              type: 'string',
              description: 'User status',
              enum: ['active', 'inactive', 'pending'],
              default: 'active',
            },
            verified: { type: 'boolean', description: 'Verification status', default: true },
          },
        },
      }),
  );

  server.registerTool(
    'test_elicitation_sep1330_enums',
    { description: 'Elicits a form with all five enum variants (SEP-1330).' },
    (ctx) =>
      elicit(ctx, {
        message: 'Please pick from each list',
        requestedSchema: {
          type: 'object',
          properties: {
            untitledSingle: { type: 'string', enum: ['option1', 'option2', 'option3'] },
            titledSingle: {
              type: 'string',
              oneOf: [
                { const: 'value1', title: 'First Option' },
                { const: 'value2', title: 'Second Option' },
                { const: 'value3', title: 'Third Option' },
              ],
            },
            legacyEnum: {
              type: 'string',
              enum: ['opt1', 'opt2', 'opt3'],
              enumNames: ['Option One', 'Option Two', 'Option Three'],
            },
            untitledMulti: {
              type: 'array',
              items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
            },
            titledMulti: {
              type: 'array',
              items: {
                anyOf: [
                  { const: 'value1', title: 'First Choice' },
                  { const: 'value2', title: 'Second Choice' },
                  { const: 'value3', title: 'Third Choice' },
                ],
              },
            },
          },
        },
      }),
  );
}

function registerResources(server: McpServer): void {
  server.registerResource(
    'static-text',
    'test://static-text',
    { mimeType: 'text/plain', description: 'A static text resource.' },
    (uri) => ({
      contents: [
        { uri: uri.href, mimeType: 'text/plain', text: 'This is the content of the static text resource.' },
      ],
    }),
  );

  server.registerResource(
    'static-binary',
    'test://static-binary',
    { mimeType: 'image/png', description: 'A static binary resource (PNG).' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'image/png', blob: RED_PIXEL_PNG }] }),
  );

  server.registerResource(
    'watched-resource',
    'test://watched-resource',
    { mimeType: 'text/plain', description: 'A resource clients subscribe to.' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'Watched resource content.' }] }),
  );

  server.registerResource(
    'template-data',
    new ResourceTemplate('test://template/{id}/data', {
      list: undefined,
      complete: { id: (value) => ['123', '456', '789'].filter((id) => id.startsWith(value)) },
    }),
    { mimeType: 'application/json', description: 'Data for one id (template).' },
    (uri, variables) => {
      const id = Array.isArray(variables.id) ? variables.id.join(',') : String(variables.id);
      return {
        contents: [
          {
            uri: uri.href,
            mimeType: 'application/json',
            text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
          },
        ],
      };
    },
  );

  // McpServer does not serve subscriptions itself. Subscribing is acknowledged; nothing ever changes.
  const subscriptions = new Set<string>();
  server.server.setRequestHandler('resources/subscribe', (request) => {
    subscriptions.add(request.params.uri);
    return {};
  });
  server.server.setRequestHandler('resources/unsubscribe', (request) => {
    subscriptions.delete(request.params.uri);
    return {};
  });
}

function registerPrompts(server: McpServer): void {
  server.registerPrompt('test_simple_prompt', { description: 'A prompt without arguments.' }, () => ({
    messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
  }));

  server.registerPrompt(
    'test_prompt_with_arguments',
    {
      description: 'A prompt with two required arguments; arg1 completes.',
      argsSchema: z.object({
        arg1: completable(z.string().describe('First test argument'), (value) =>
          ['test', 'testing', 'tested', 'paris', 'park'].filter((candidate) => candidate.startsWith(value)),
        ),
        arg2: z.string().describe('Second test argument'),
      }),
    },
    ({ arg1, arg2 }) => ({
      messages: [
        {
          role: 'user',
          content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` },
        },
      ],
    }),
  );

  server.registerPrompt(
    'test_prompt_with_embedded_resource',
    {
      description: 'A prompt embedding the resource named by its argument.',
      argsSchema: z.object({ resourceUri: z.string().describe('URI of the resource to embed') }),
    },
    ({ resourceUri }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'resource',
            resource: {
              uri: resourceUri,
              mimeType: 'text/plain',
              text: 'Embedded resource content for testing.',
            },
          },
        },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ],
    }),
  );

  server.registerPrompt('test_prompt_with_image', { description: 'A prompt with image content.' }, () => ({
    messages: [
      { role: 'user', content: { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
    ],
  }));
}
