import { RpcErrorCode } from '@mcp-gateway/core';
import { parseJSONRPCMessage } from '@modelcontextprotocol/server';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import type { RawData } from 'ws';

/** One WebSocket frame read as MCP: a JSON-RPC message, or the JSON-RPC error that answers it. */
export type ParsedWebSocketMessage =
  | { ok: true; message: JSONRPCMessage }
  | { ok: false; code: number; message: string; id: string | number | null; cause?: unknown };

/**
 * Reads one WebSocket message as exactly one JSON-RPC message (UTF-8 JSON in a text frame). Binary frames,
 * batches and envelopes that are not JSON-RPC 2.0 give -32600, text that is not JSON gives -32700; the `id` of
 * the offending request is kept when it can be read, as JSON-RPC asks.
 */
export function parseWebSocketMessage(data: RawData, isBinary: boolean): ParsedWebSocketMessage {
  if (isBinary) {
    return invalid(null, 'binary frames are not supported; send each JSON-RPC message as one text frame');
  }
  const text = toBuffer(data).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      code: RpcErrorCode.ParseError,
      message: `Parse error: the message is not valid JSON (${error instanceof Error ? error.message : String(error)})`,
      id: null,
      cause: error,
    };
  }
  if (Array.isArray(value)) {
    return invalid(null, 'batches are not supported; send one JSON-RPC message per WebSocket message');
  }
  if (typeof value !== 'object' || value === null) {
    return invalid(null, 'a WebSocket message must be one JSON-RPC object');
  }
  const id = readId(value);
  if ((value as { jsonrpc?: unknown }).jsonrpc !== '2.0') {
    return invalid(id, 'the "jsonrpc" member must be "2.0"');
  }
  try {
    return { ok: true, message: parseJSONRPCMessage(value) };
  } catch (error) {
    return invalid(id, 'not a JSON-RPC request, notification or response', error);
  }
}

function invalid(id: string | number | null, reason: string, cause?: unknown): ParsedWebSocketMessage {
  return { ok: false, code: RpcErrorCode.InvalidRequest, message: `Invalid Request: ${reason}`, id, cause };
}

function readId(value: object): string | number | null {
  const id = (value as { id?: unknown }).id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
