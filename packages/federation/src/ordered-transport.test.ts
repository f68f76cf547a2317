import { Client } from '@modelcontextprotocol/client';
import { InMemoryTransport } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { preserveNotificationOrder } from './ordered-transport.ts';

describe('preserveNotificationOrder', () => {
  it('delivers a progress notification sent in the same tick as its response before the response', async () => {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    serverSide.onmessage = (message) => {
      const request = message as {
        id?: number;
        method?: string;
        params?: { _meta?: { progressToken?: string | number } };
      };
      if (request.method === 'initialize') {
        void serverSide.send({
          jsonrpc: '2.0',
          id: request.id!,
          result: {
            protocolVersion: '2025-11-25',
            capabilities: { tools: {} },
            serverInfo: { name: 'burst', version: '1' },
          },
        });
      } else if (request.method === 'tools/call') {
        const token = request.params?._meta?.progressToken;
        // Both in one tick, as they arrive when a busy pipe coalesces two lines.
        void serverSide.send({
          jsonrpc: '2.0',
          method: 'notifications/progress',
          params: { progressToken: token!, progress: 1, total: 1 },
        });
        void serverSide.send({
          jsonrpc: '2.0',
          id: request.id!,
          result: { content: [{ type: 'text', text: 'done' }] },
        });
      }
    };
    await serverSide.start();
    const client = new Client({ name: 't', version: '1' });
    await client.connect(preserveNotificationOrder(clientSide));
    const progress: number[] = [];
    const result = await client.request(
      { method: 'tools/call', params: { name: 'x', arguments: {} } },
      { onprogress: (p) => progress.push(p.progress) },
    );
    expect(result.content).toEqual([{ type: 'text', text: 'done' }]);
    expect(progress).toEqual([1]);
    await client.close();
  });
});
