import { McpServer } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { z } from 'zod';

/**
 * The sample upstream of the Quick start: a small stdio MCP server with a few tools, a prompt and a resource, so a
 * fresh gateway has something to list and call. Started by `mcp-gateway start --sample` as a child process.
 */
export function createSampleServer(): McpServer {
  const server = new McpServer({ name: 'mcp-gateway-sample', version: '0.1.0' });
  server.registerTool(
    'echo',
    { description: 'Returns the message it is given.', inputSchema: z.object({ message: z.string() }) },
    ({ message }) => ({ content: [{ type: 'text', text: message }] }),
  );
  server.registerTool(
    'add',
    {
      description: 'Adds two numbers.',
      inputSchema: z.object({ a: z.number(), b: z.number() }),
      outputSchema: z.object({ sum: z.number() }),
    },
    ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }], structuredContent: { sum: a + b } }),
  );
  server.registerTool(
    'current_time',
    { description: 'The current time in ISO 8601, in UTC.', inputSchema: z.object({}) },
    () => ({ content: [{ type: 'text', text: new Date().toISOString() }] }),
  );
  server.registerPrompt(
    'summarize',
    { description: 'Asks the model to summarize a text.', argsSchema: z.object({ text: z.string() }) },
    ({ text }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Summarize this:\n\n${text}` } }],
    }),
  );
  server.registerResource(
    'about',
    'sample://about',
    { description: 'What this sample server is.', mimeType: 'text/plain' },
    (uri) => ({
      contents: [
        {
          uri: uri.href,
          mimeType: 'text/plain',
          text: 'The MCP Gateway sample upstream: echo, add, current_time.',
        },
      ],
    }),
  );
  return server;
}

/** Serves the sample server on stdin/stdout until stdin closes. */
export async function runSampleServer(): Promise<void> {
  await createSampleServer().connect(new StdioServerTransport());
}
