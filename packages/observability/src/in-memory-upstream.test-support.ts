import {
  emptyUpstreamCatalog,
  RpcError,
  RpcErrorCode,
  type RpcParams,
  type RpcResult,
  type Tool,
  type Upstream,
  type UpstreamChange,
  type UpstreamNotification,
  type UpstreamState,
} from '@mcp-gateway/core';

/** Options of {@link createTestUpstream}. */
export interface TestUpstreamOptions {
  id: string;
  /** Default: the id. */
  name?: string;
  tools: readonly string[];
  /** Answers tools/call; default `{ content: [] }`. Throw an `RpcError` to fail the call. */
  callTool?: (name: string, args: Record<string, unknown> | undefined) => RpcResult | Promise<RpcResult>;
  state?: UpstreamState;
}

/** A tiny in-memory implementation of core's `Upstream`: a fixed tool list answered by a function. */
export function createTestUpstream(
  options: TestUpstreamOptions,
): Upstream & { setState(state: UpstreamState): void } {
  let state: UpstreamState = options.state ?? { status: 'ready', reconnects: 0 };
  const tools: Tool[] = options.tools.map((name) => ({ name, inputSchema: { type: 'object' } }));
  const changeListeners = new Set<(change: UpstreamChange) => void>();
  const notificationListeners = new Set<(notification: UpstreamNotification) => void>();
  return {
    id: options.id,
    name: options.name ?? options.id,
    start() {},
    async close() {
      state = { ...state, status: 'closed' };
    },
    getState: () => state,
    setState(next) {
      state = next;
      for (const listener of changeListeners) listener({ type: 'state', state });
    },
    getCatalog: () => ({ ...emptyUpstreamCatalog, tools }),
    getCapabilities: () => ({ tools: {} }),
    async request(method: string, params: RpcParams | undefined): Promise<RpcResult> {
      if (method !== 'tools/call')
        throw new RpcError(RpcErrorCode.MethodNotFound, `Method not found: ${method}`);
      const name = params?.name as string;
      return options.callTool
        ? options.callTool(name, params?.arguments as Record<string, unknown> | undefined)
        : { content: [] };
    },
    onChange(listener) {
      changeListeners.add(listener);
      return () => changeListeners.delete(listener);
    },
    onNotification(listener) {
      notificationListeners.add(listener);
      return () => notificationListeners.delete(listener);
    },
    async notify() {},
    async releaseSession() {},
  };
}
