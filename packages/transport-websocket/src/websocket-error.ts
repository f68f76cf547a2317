import { GatewayError } from '@mcp-gateway/core';
import type { GatewayErrorCode } from '@mcp-gateway/core';

/**
 * Why a WebSocket transport failed, in `error.details.reason` of the {@link GatewayError} it throws or reports:
 * - `invalid-options` (code `config-invalid`): a factory cannot use its options; thrown at creation.
 * - `connect-failed` (code `upstream-connect-failed`): the client could not open the connection (refused, timed
 *   out, HTTP error instead of the upgrade, `mcp` subprotocol not accepted).
 * - `not-connected` (code `upstream-unavailable`): the client's `send()` before `start()` or after the close.
 * - `connection-error` (code `upstream-unavailable`): the open connection failed: a socket error, a protocol
 *   violation or a message over `maxMessageBytes` from the upstream (the connection then closes), or a send
 *   that could not be written.
 * - `invalid-message` (code `upstream-unavailable`): the upstream sent a frame that is not one JSON-RPC message.
 * - `already-started` (code `internal`): `start()` was called twice (the SDK calls it in `connect()`).
 * - `session-closed` (code `not-found`): the server's `send()` after the session ended, or the send that ended it
 *   because the client stopped reading.
 */
export type WebSocketErrorReason =
  | 'invalid-options'
  | 'connect-failed'
  | 'not-connected'
  | 'connection-error'
  | 'invalid-message'
  | 'already-started'
  | 'session-closed';

/** What a WebSocket transport error carries in `details`. */
export interface WebSocketErrorDetails {
  reason: WebSocketErrorReason;
  /** The upstream's URL without credentials or query (client side). */
  url?: string;
  /** The session's id (server side). */
  sessionId?: string;
}

const codeOfReason: Record<WebSocketErrorReason, GatewayErrorCode> = {
  'invalid-options': 'config-invalid',
  'connect-failed': 'upstream-connect-failed',
  'not-connected': 'upstream-unavailable',
  'connection-error': 'upstream-unavailable',
  'invalid-message': 'upstream-unavailable',
  'already-started': 'internal',
  'session-closed': 'not-found',
};

/** Builds the local error for `reason`; the gateway-wide code comes from the reason. */
export function createWebSocketError(
  details: WebSocketErrorDetails,
  message: string,
  cause?: unknown,
): GatewayError {
  return new GatewayError(codeOfReason[details.reason], message, { cause, details });
}
