// A real implementation of core's Upstream interface with no connection, for router-level tests of the hooks.
import { emptyUpstreamCatalog } from '@mcp-gateway/core';
import type {
  RpcParams,
  RpcResult,
  Tool,
  Upstream,
  UpstreamCatalog,
  UpstreamChange,
} from '@mcp-gateway/core';

/** An upstream held in memory: a catalog a test can change and a log of the requests it served. */
export interface TestUpstream extends Upstream {
  readonly requests: Array<{ method: string; params: RpcParams | undefined }>;
  setTools(tools: Tool[]): void;
}

/** A tool with the smallest valid input schema. */
export function tool(name: string, extra: Partial<Tool> = {}): Tool {
  return { name, inputSchema: { type: 'object' }, ...extra };
}

/** Creates a {@link TestUpstream} that answers every call with `{ content: [{ type: 'text', text: '<id>:<name>' }] }`. */
export function createTestUpstream(id: string, catalog: Partial<UpstreamCatalog> = {}): TestUpstream {
  let current: UpstreamCatalog = { ...emptyUpstreamCatalog, ...catalog };
  const listeners = new Set<(change: UpstreamChange) => void>();
  const requests: Array<{ method: string; params: RpcParams | undefined }> = [];
  return {
    id,
    name: id,
    requests,
    start() {},
    async close() {},
    getState: () => ({ status: 'ready', reconnects: 0 }),
    getCatalog: () => current,
    getCapabilities: () => ({ tools: {}, prompts: {}, resources: {} }),
    async request(method, params): Promise<RpcResult> {
      requests.push({ method, params });
      return { content: [{ type: 'text', text: `${id}:${String(params?.name ?? params?.uri)}` }] };
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onNotification: () => () => undefined,
    async notify() {},
    async releaseSession() {},
    setTools(tools) {
      current = { ...current, tools };
      for (const listener of listeners) listener({ type: 'catalog', kinds: ['tools'] });
    },
  };
}
