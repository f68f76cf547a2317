import type { ClientCapabilities, Implementation, RpcParams, RpcResult } from './mcp-types.ts';

/**
 * One connected downstream client, as a transport presents it to the router: who it is, and how to reach it
 * outside any request (notifications, server→client requests). Every transport (streamable HTTP, SSE, WebSocket,
 * stdio) attaches its sessions to the router through this interface.
 */
export interface DownstreamSession {
  readonly id: string;
  /** Declared at initialize; undefined before. */
  capabilities(): ClientCapabilities | undefined;
  clientInfo(): Implementation | undefined;
  /** Sends a notification to this client (e.g. `notifications/tools/list_changed`). */
  notify(method: string, params?: RpcParams): Promise<void>;
  /** Sends a server→client request that is not related to one of the client's requests. */
  request(
    method: string,
    params: RpcParams | undefined,
    options?: { signal?: AbortSignal },
  ): Promise<RpcResult>;
}

/** MCP logging levels, least to most severe. */
export const LOGGING_LEVELS = [
  'debug',
  'info',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
] as const;
export type LoggingLevel = (typeof LOGGING_LEVELS)[number];

/** Whether a message at `level` passes a client's `minimum` (a client that set no level gets everything). */
export function passesLogLevel(level: unknown, minimum: LoggingLevel | undefined): boolean {
  if (minimum === undefined) return true;
  const index = LOGGING_LEVELS.indexOf(level as LoggingLevel);
  return index === -1 || index >= LOGGING_LEVELS.indexOf(minimum);
}
