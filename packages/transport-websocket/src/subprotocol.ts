/** The WebSocket subprotocol of MCP (`Sec-WebSocket-Protocol: mcp`); a connection without it is refused. */
export const MCP_SUBPROTOCOL = 'mcp';

/** The subprotocols a client offers in its `Sec-WebSocket-Protocol` header(s), in order. */
export function offeredSubprotocols(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  const values = Array.isArray(header) ? header : [header];
  return values.flatMap((value) =>
    value
      .split(',')
      .map((token) => token.trim())
      .filter((token) => token !== ''),
  );
}
