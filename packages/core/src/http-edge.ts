import { describeError, RpcErrorCode } from './errors.ts';

/** A JSON-RPC error body with no id, for failures before a message could be read. */
export function jsonRpcErrorResponse(status: number, code: number, message: string): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } }), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

/**
 * DNS-rebinding protection: a `Host` outside `allowedHosts` (when that set is not empty), or a present `Origin` that is
 * neither allowed nor the request's own host, gets 403.
 */
export function checkHostAndOrigin(
  request: Request,
  allowedHosts: ReadonlySet<string>,
  allowedOrigins: ReadonlySet<string>,
): Response | undefined {
  if (allowedHosts.size > 0) {
    const host = (request.headers.get('host') ?? '').toLowerCase();
    const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
    if (!hostname || !allowedHosts.has(hostname)) {
      return jsonRpcErrorResponse(
        403,
        RpcErrorCode.InvalidRequest,
        `Forbidden: host "${host}" is not allowed`,
      );
    }
  }
  const origin = request.headers.get('origin');
  if (origin !== null && !allowedOrigins.has(origin)) {
    let sameHost: boolean;
    try {
      sameHost = new URL(origin).host === request.headers.get('host');
    } catch {
      sameHost = false;
    }
    if (!sameHost) {
      return jsonRpcErrorResponse(
        403,
        RpcErrorCode.InvalidRequest,
        `Forbidden: origin "${origin}" is not allowed`,
      );
    }
  }
  return undefined;
}

/** Reads a JSON body once, within a byte limit, without buffering more than the limit (413, 400 -32700 on failure). */
export async function readJsonBody(
  request: Request,
  maxBytes: number,
  maxDepth = DEFAULT_MAX_JSON_DEPTH,
): Promise<{ body: unknown; text: string } | Response> {
  const declared = Number(request.headers.get('content-length') ?? 'NaN');
  if (Number.isFinite(declared) && declared > maxBytes) {
    return jsonRpcErrorResponse(
      413,
      RpcErrorCode.InvalidRequest,
      `Payload Too Large: the limit is ${maxBytes} bytes`,
    );
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        return jsonRpcErrorResponse(
          413,
          RpcErrorCode.InvalidRequest,
          `Payload Too Large: the limit is ${maxBytes} bytes`,
        );
      }
      chunks.push(value);
    }
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    return jsonRpcErrorResponse(400, RpcErrorCode.ParseError, 'Parse error: the body is not valid UTF-8');
  }
  const depth = jsonNestingDepth(text, maxDepth);
  if (depth > maxDepth) {
    return jsonRpcErrorResponse(
      400,
      RpcErrorCode.InvalidRequest,
      `Bad Request: JSON nested deeper than ${maxDepth} levels`,
    );
  }
  try {
    return { body: JSON.parse(text) as unknown, text };
  } catch (error) {
    return jsonRpcErrorResponse(400, RpcErrorCode.ParseError, `Parse error: ${describeError(error)}`);
  }
}

/** Deepest JSON nesting a request may have: far beyond any real MCP message, far below a stack overflow. */
export const DEFAULT_MAX_JSON_DEPTH = 128;

/**
 * How deeply `text` nests arrays and objects, scanning once without parsing (strings are skipped, escapes
 * honoured). Stops counting past `stopAt`, so a 100k-deep body is refused in one cheap pass instead of recursing.
 */
export function jsonNestingDepth(text: string, stopAt = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 92 /* \\ */) i++;
      else if (code === 34 /* " */) inString = false;
      continue;
    }
    if (code === 34) inString = true;
    else if (code === 123 || code === 91) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAt) return deepest;
      }
    } else if (code === 125 || code === 93) depth--;
  }
  return deepest;
}
