// MCP clients for the catalog-scale and REST-tool benchmarks: the SDK client, and a raw JSON-RPC-over-fetch session
// that isolates the gateway's time from the SDK's result validation.
import { Client, LATEST_PROTOCOL_VERSION, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

const CLIENT_INFO = { name: 'mcp-gateway-scale-bench', version: '0.0.0' };
/**
 * The version raw sessions ask for: the one the SDK client asks for too (the newest 2025-era revision), so both
 * clients get the same server behaviour (e.g. resumable SSE streams with a priming event).
 */
const RAW_PROTOCOL_VERSION = LATEST_PROTOCOL_VERSION;

/** Connects an SDK client over streamable HTTP. */
export async function connectSdk(url: string): Promise<Client> {
  const client = new Client(CLIENT_INFO, { capabilities: {} });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

/** One tools/list page through the SDK's protocol layer (validated like every SDK result, never cached). */
export async function listToolsPage(
  client: Client,
  cursor?: string,
): Promise<{ tools: number; nextCursor?: string }> {
  const page = await client.request({ method: 'tools/list', params: cursor === undefined ? {} : { cursor } });
  return { tools: page.tools.length, nextCursor: page.nextCursor };
}

/**
 * Every tool of the endpoint, page by page (at most `maxPages`), through the SDK. (`client.listTools()` without a
 * cursor walks the same pages but may answer from its response cache, so it is not used for timing.)
 */
export async function listAllTools(
  client: Client,
  maxPages = 1_000,
): Promise<{ tools: number; pages: number }> {
  let cursor: string | undefined;
  let tools = 0;
  let pages = 0;
  do {
    const page = await listToolsPage(client, cursor);
    tools += page.tools;
    pages += 1;
    cursor = page.nextCursor;
  } while (cursor !== undefined && pages < maxPages);
  return { tools, pages };
}

type JsonRpcMessage = {
  id?: number;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
};

/** A stateful MCP session spoken with plain fetch: initialize, then JSON-RPC requests; the body is JSON.parsed. */
export interface RawSession {
  request(method: string, params?: Record<string, unknown>): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

function messageWithId(body: string, contentType: string, id: number): JsonRpcMessage | undefined {
  if (!contentType.includes('text/event-stream')) return JSON.parse(body) as JsonRpcMessage;
  for (const event of body.split(/\r?\n\r?\n/)) {
    const data = event
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trimStart())
      .join('\n');
    if (data === '') continue;
    const message = JSON.parse(data) as JsonRpcMessage;
    if (message.id === id) return message;
  }
  return undefined;
}

/** Opens a {@link RawSession} on a streamable-HTTP endpoint. */
export async function openRawSession(url: string): Promise<RawSession> {
  let nextId = 0;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  const post = (body: unknown) =>
    fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  const request = async (method: string, params: Record<string, unknown> = {}) => {
    nextId += 1;
    const id = nextId;
    const response = await post({ jsonrpc: '2.0', id, method, params });
    const body = await response.text();
    if (!response.ok) throw new Error(`${method}: HTTP ${response.status} ${body.slice(0, 200)}`);
    const message = messageWithId(body, response.headers.get('content-type') ?? '', id);
    if (message === undefined) throw new Error(`${method}: no response with id ${id}`);
    if (message.error) throw new Error(`${method}: ${message.error.code} ${message.error.message}`);
    return { result: message.result ?? {}, response };
  };
  const { result, response } = await request('initialize', {
    protocolVersion: RAW_PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: CLIENT_INFO,
  });
  const sessionId = response.headers.get('mcp-session-id');
  if (sessionId !== null) headers['mcp-session-id'] = sessionId;
  headers['mcp-protocol-version'] =
    typeof result.protocolVersion === 'string' ? result.protocolVersion : RAW_PROTOCOL_VERSION;
  const initialized = await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  await initialized.arrayBuffer();
  return {
    request: async (method, params) => (await request(method, params)).result,
    async close() {
      if (sessionId === null) return;
      const closed = await fetch(url, {
        method: 'DELETE',
        headers,
        signal: AbortSignal.timeout(5_000),
      }).catch(() => undefined);
      await closed?.arrayBuffer();
    },
  };
}

/** Every tool of the endpoint over a raw session, page by page (at most `maxPages`). */
export async function rawListAllTools(
  session: RawSession,
  maxPages = 1_000,
): Promise<{ tools: number; pages: number }> {
  let cursor: unknown;
  let tools = 0;
  let pages = 0;
  do {
    const page = await session.request('tools/list', cursor === undefined ? {} : { cursor });
    tools += Array.isArray(page.tools) ? page.tools.length : 0;
    pages += 1;
    cursor = page.nextCursor;
  } while (typeof cursor === 'string' && pages < maxPages);
  return { tools, pages };
}
