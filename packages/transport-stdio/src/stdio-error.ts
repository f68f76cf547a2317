import { GatewayError } from '@mcp-gateway/core';
import type { GatewayErrorCode } from '@mcp-gateway/core';

/**
 * Why the stdio transport failed, in `error.details.reason` of the {@link GatewayError} it throws or reports:
 * - `invalid-options` (code `config-invalid`): {@link createStdioClientTransport} cannot use its options.
 * - `spawn-failed` (code `upstream-connect-failed`): the command could not be started (ENOENT, EACCES, missing cwd).
 * - `not-connected` (code `upstream-unavailable`): `send()` before `start()`, or after the child exited or `close()`.
 * - `write-failed` (code `upstream-unavailable`): writing to the child's stdin failed (EPIPE once it closed it).
 * - `invalid-message` (code `upstream-unavailable`): a stdout line was not JSON or not a JSON-RPC message.
 * - `message-too-large` (code `upstream-unavailable`): a stdout line exceeded `maxMessageBytes` and was dropped.
 */
export type StdioErrorReason =
  | 'invalid-options'
  | 'spawn-failed'
  | 'not-connected'
  | 'write-failed'
  | 'invalid-message'
  | 'message-too-large';

/** What a stdio transport error carries in `details`. */
export interface StdioErrorDetails {
  reason: StdioErrorReason;
  upstream?: string;
  pid?: number;
}

const codeOfReason: Record<StdioErrorReason, GatewayErrorCode> = {
  'invalid-options': 'config-invalid',
  'spawn-failed': 'upstream-connect-failed',
  'not-connected': 'upstream-unavailable',
  'write-failed': 'upstream-unavailable',
  'invalid-message': 'upstream-unavailable',
  'message-too-large': 'upstream-unavailable',
};

/** Builds the local error for `reason`; the gateway-wide code comes from the reason. */
export function createStdioError(details: StdioErrorDetails, message: string, cause?: unknown): GatewayError {
  return new GatewayError(codeOfReason[details.reason], message, { cause, details });
}
