// Writes one JSON-RPC notification with its argv, cwd and environment variable names, then waits for stdin to end.
const params = { argv: process.argv.slice(2), cwd: process.cwd(), env: process.env };
process.stdout.write(JSON.stringify({ jsonrpc: '2.0', method: 'fixture/argv', params }) + '\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
