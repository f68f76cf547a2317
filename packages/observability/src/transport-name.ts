/** The downstream transports the gateway serves, as metric labels and span attributes name them. */
export type TransportName = 'streamable-http' | 'sse' | 'websocket' | 'rpc' | 'rest' | 'stdio';
