// The benchmark upstream as a process:
//   node dist/echo-server.js stdio              serve on stdin/stdout until stdin closes
//   node dist/echo-server.js http [--port N]    serve on http://127.0.0.1:<N or ephemeral>/mcp; prints the URL
import { serveEchoStdio, startEchoHttpServer } from '../echo-server.ts';

const USAGE = 'usage: echo-server stdio | echo-server http [--port N]\n';

async function main(argv: string[]): Promise<void> {
  const [mode, ...rest] = argv;
  if (mode === 'stdio') {
    // A client that goes away closes our stdin; leave then, whatever the transport thinks.
    process.stdin.once('end', () => process.exit(0));
    await serveEchoStdio();
    process.exit(0);
  }
  if (mode === 'http') {
    const portIndex = rest.indexOf('--port');
    const port = portIndex === -1 ? 0 : Number(rest[portIndex + 1]);
    if (!Number.isInteger(port) || port < 0 || port > 65_535)
      throw new Error(`invalid --port: ${rest[portIndex + 1]}`);
    const server = await startEchoHttpServer({ port });
    process.stdout.write(`${server.url}\n`);
    const stop = () => {
      server.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    return;
  }
  process.stderr.write(USAGE);
  process.exit(2);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`echo-server: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
