// A minimal MCP server for the transport tests, served over its own stdin/stdout.
// Tools: `echo` returns its `text`; `hang` never answers (to test what a crash does to a pending request).
// MCP_FIXTURE_GRANDCHILD=1 starts a long-lived grandchild (it inherits stderr, like a real helper process would)
// and prints `grandchild-pid=<pid>` on stderr.
import { spawn } from 'node:child_process';
import { McpServer, fromJsonSchema } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';

if (process.env.MCP_FIXTURE_GRANDCHILD === '1') {
  const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  process.stderr.write(`grandchild-pid=${grandchild.pid}\n`);
}

serveStdio(() => {
  const server = new McpServer({ name: 'stdio-fixture', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.registerTool(
    'echo',
    {
      description: 'Returns its text argument',
      inputSchema: fromJsonSchema({
        type: 'object',
        properties: { text: { type: 'string' } },
        required: ['text'],
      }),
    },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  server.registerTool('hang', { description: 'Never answers' }, () => new Promise(() => {}));
  return server;
});

process.stderr.write('fixture server ready\nsecond stderr line\n');
