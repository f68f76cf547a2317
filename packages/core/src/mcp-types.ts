import type { z } from 'zod';
import type {
  ClientCapabilitiesSchema,
  ImplementationSchema,
  PromptSchema,
  ResourceSchema,
  ResourceTemplateSchema,
  ServerCapabilitiesSchema,
  ToolSchema,
} from '@modelcontextprotocol/core';

/** MCP spec types, inferred from the official SDK's schemas so they track the spec. */
export type Tool = z.infer<typeof ToolSchema>;
export type Prompt = z.infer<typeof PromptSchema>;
export type Resource = z.infer<typeof ResourceSchema>;
export type ResourceTemplate = z.infer<typeof ResourceTemplateSchema>;
export type ServerCapabilities = z.infer<typeof ServerCapabilitiesSchema>;
export type Implementation = z.infer<typeof ImplementationSchema>;
export type ClientCapabilities = z.infer<typeof ClientCapabilitiesSchema>;

/** Any JSON-RPC result object, passed through as the upstream sent it. */
export type RpcResult = Record<string, unknown>;
/** The params object of a JSON-RPC request. */
export type RpcParams = Record<string, unknown>;
