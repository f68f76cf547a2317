// Runs the conformance fixture server over stdio: `node --import tsx/esm conformance-stdio.ts`.
// Stdout carries only JSON-RPC; everything else goes to stderr.
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { createConformanceServer } from '../conformance-server.ts';

const server = createConformanceServer();

// Stdin closing ends the transport; exit then, so pending timers cannot keep the process alive.
server.server.onclose = () => process.exit(0);

await server.connect(new StdioServerTransport());
process.stderr.write(`conformance fixture started pid=${process.pid}\n`);
