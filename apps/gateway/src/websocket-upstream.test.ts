import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createFixtureServer } from '@mcp-gateway/testing';
import { createWebSocketServer } from '@mcp-gateway/transport-websocket';
import { startGateway } from './start-gateway.ts';
import { connectClient, testConfig, waitForReadyUpstreams } from './test-support.ts';

describe('a WebSocket upstream', () => {
  it('is federated like any other: listed, called, with progress', async () => {
    const ws = createWebSocketServer({
      onSession: (transport) => createFixtureServer({ name: 'over-ws' }).connect(transport),
    });
    const http = createServer((_req, res) => res.writeHead(404).end());
    http.on('upgrade', (request, socket, head) => ws.handleUpgrade(request, socket, head));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ws`;
    await using config = await testConfig();
    const gateway = await startGateway({
      config,
      gateways: [
        {
          name: 'sock',
          transport: 'websocket',
          url,
          args: [],
          env: {},
          headers: {},
          enabled: true,
          tags: [],
        },
      ],
    });
    try {
      await waitForReadyUpstreams(gateway, 1);
      await using client = await connectClient(gateway);
      const result = await client.callTool({ name: 'sock__whoami', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'over-ws' }]);
      const progress: number[] = [];
      await client.callTool(
        { name: 'sock__slow', arguments: { ms: 100 } },
        { onprogress: (p) => progress.push(p.progress) },
      );
      expect(progress).toEqual([0, 1, 2, 3]);
    } finally {
      await gateway.close();
      await ws.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
  });

  it('refuses a websocket gateway whose url is not ws:// with 400 naming the field', async () => {
    await using config = await testConfig();
    const gateway = await startGateway({ config });
    try {
      const response = await fetch(`${gateway.url}/v1/gateways`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'bad', transport: 'websocket', url: 'http://127.0.0.1:1/ws' }),
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { message: string } }).error.message).toContain('ws://');
    } finally {
      await gateway.close();
    }
  });
});
