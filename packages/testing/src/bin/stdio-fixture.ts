// Runs one fixture server over stdio: `node --import tsx/esm stdio-fixture.ts [name]`.
// Set FIXTURE_SPAWN_GRANDCHILD=1 to also start a long-lived grandchild, for process-tree reaping tests.
import { spawn } from 'node:child_process';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { createFixtureServer } from '../fixture-server.ts';

const name = process.argv[2] ?? 'stdio-fixture';
const server = createFixtureServer({ name });

// Stdin closing ends the transport; exit then, so pending `slow` timers cannot keep the process alive.
server.server.onclose = () => process.exit(0);

await server.connect(new StdioServerTransport());
process.stderr.write(`fixture ${name} started pid=${process.pid}\n`);

if (process.env.FIXTURE_SPAWN_GRANDCHILD === '1') {
  // Not detached: it stays in our process group, and is deliberately left behind when we exit.
  const grandchild = spawn(process.execPath, ['-e', 'setInterval(()=>{},1e9)'], { stdio: 'ignore' });
  grandchild.unref();
  process.stderr.write(`grandchild pid=${grandchild.pid}\n`);
}
