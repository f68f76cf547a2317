import {
  describeError,
  readJsonBody,
  ROUTED_METHODS,
  RpcError,
  RpcErrorCode,
  jsonRpcErrorResponse,
  type Logger,
  type Router,
  type RpcParams,
} from '@mcp-gateway/core';

/** Options of {@link createRpcHandler}. */
export interface RpcHandlerOptions {
  router: Router;
  logger: Logger;
  /** Largest request body [4 MiB]. */
  maxBodyBytes?: number;
  /** Most messages in one batch [100]. */
  maxBatch?: number;
}

const METHODS = new Set<string>([...ROUTED_METHODS, 'ping']);

type Message = { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };

/**
 * `POST /rpc`: plain JSON-RPC 2.0 over HTTP for scripts and curl, with no MCP session: one request (or a batch) in,
 * the JSON response out. It offers the routed MCP methods (tools/list, tools/call, …) and ping; there is no
 * initialize, and nothing streams.
 */
export function createRpcHandler(options: RpcHandlerOptions): (request: Request) => Promise<Response> {
  const maxBatch = options.maxBatch ?? 100;

  const answer = async (message: Message): Promise<object | undefined> => {
    const id = message.id;
    const validId = typeof id === 'string' || typeof id === 'number';
    if (message.jsonrpc !== '2.0' || typeof message.method !== 'string' || (id !== undefined && !validId)) {
      return {
        jsonrpc: '2.0',
        id: validId ? id : null,
        error: {
          code: RpcErrorCode.InvalidRequest,
          message: 'Invalid Request: expected {"jsonrpc": "2.0", "id", "method", "params"?}',
        },
      };
    }
    if (id === undefined) return undefined;
    if (!METHODS.has(message.method)) {
      return {
        jsonrpc: '2.0',
        id,
        error: { code: RpcErrorCode.MethodNotFound, message: `Method not found: ${message.method}` },
      };
    }
    const params = message.params;
    if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
      return {
        jsonrpc: '2.0',
        id,
        error: { code: RpcErrorCode.InvalidParams, message: 'params must be an object' },
      };
    }
    try {
      const result = await options.router.handle(message.method, params as RpcParams | undefined);
      return { jsonrpc: '2.0', id, result };
    } catch (error) {
      if (error instanceof RpcError) {
        return {
          jsonrpc: '2.0',
          id,
          error: {
            code: error.code,
            message: error.message,
            ...(error.data === undefined ? {} : { data: error.data }),
          },
        };
      }
      options.logger.error({ err: describeError(error), method: message.method }, '/rpc request failed');
      return { jsonrpc: '2.0', id, error: { code: RpcErrorCode.InternalError, message: 'Internal error' } };
    }
  };

  return async (request) => {
    if (request.method !== 'POST') return new Response(null, { status: 405, headers: { allow: 'POST' } });
    const type = request.headers.get('content-type') ?? '';
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      return jsonRpcErrorResponse(
        415,
        RpcErrorCode.InvalidRequest,
        'Unsupported Media Type: send Content-Type: application/json',
      );
    }
    const parsed = await readJsonBody(request, options.maxBodyBytes ?? 4 * 1024 * 1024);
    if (parsed instanceof Response) return parsed;
    const body = parsed.body;
    if (Array.isArray(body)) {
      if (body.length === 0 || body.length > maxBatch) {
        return jsonRpcErrorResponse(
          400,
          RpcErrorCode.InvalidRequest,
          `Invalid Request: a batch holds 1 to ${maxBatch} messages`,
        );
      }
      const answers = (await Promise.all(body.map((m) => answer((m ?? {}) as Message)))).filter(
        (a) => a !== undefined,
      );
      return answers.length === 0 ? new Response(null, { status: 202 }) : Response.json(answers);
    }
    const single = await answer(body ?? {});
    return single === undefined ? new Response(null, { status: 202 }) : Response.json(single);
  };
}
