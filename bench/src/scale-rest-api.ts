// A tiny JSON API on loopback for the REST-tool benchmark: `GET /echo?m=…` answers `{"echo":"…"}`; `GET /stats` tells
// how many connections and echo requests it has served (to see whether callers reuse connections); anything else 404.
// Run in its own process so the load generator and the gateway do not share its event loop.
//
//   tsx src/scale-rest-api.ts [--port 0]
// Prints `listening http://127.0.0.1:<port>` when ready. Ends on SIGTERM or SIGINT (or by itself after an hour).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });

let connections = 0;
let echoes = 0;

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (request.method === 'GET' && url.pathname === '/stats') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ connections, echoes }));
    return;
  }
  if (request.method === 'GET' && url.pathname === '/echo') {
    echoes += 1;
    const body = JSON.stringify({ echo: url.searchParams.get('m') ?? '' });
    response.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    response.end(body);
    return;
  }
  response.writeHead(404, { 'content-type': 'application/json' });
  response.end('{"error":"not found"}');
});
server.on('connection', () => (connections += 1));
server.keepAliveTimeout = 60_000;
server.listen(Number(values.port), '127.0.0.1', () => {
  process.stdout.write(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});

const shutdown = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
setTimeout(() => process.exit(0), 3_600_000).unref();
