import {
  emptyUpstreamCatalog,
  RpcError,
  RpcErrorCode,
  type Prompt,
  type Resource,
  type Upstream,
  type UpstreamCatalog,
  type UpstreamChange,
} from '@mcp-gateway/core';
import { templateArguments, type PromptRecord, type ResourceRecord } from '@mcp-gateway/registry';
import { renderLocalPrompt } from '../http/catalog-routes.ts';

/** The gateway's own items, defined in the registry rather than by an upstream. */
export interface LocalUpstream extends Upstream {
  /** Replaces the local prompts and static resources (from a registry reload). */
  setItems(items: { prompts: readonly PromptRecord[]; resources: readonly ResourceRecord[] }): void;
}

/**
 * Serves local prompts (rendered from their safe `{{name}}` templates, no code) and local static resources as an
 * upstream like any other, so they are listed, namespaced, overridden and put in virtual servers the same way.
 */
export function createLocalUpstream(): LocalUpstream {
  let catalog: UpstreamCatalog = emptyUpstreamCatalog;
  let prompts = new Map<string, PromptRecord>();
  let resources = new Map<string, ResourceRecord>();
  const listeners = new Set<(change: UpstreamChange) => void>();

  return {
    id: 'local',
    name: 'local',
    start() {},
    async close() {},
    getState: () => ({ status: 'ready', reconnects: 0 }),
    getCatalog: () => catalog,
    getCapabilities: () => ({ prompts: {}, resources: {} }),
    setItems(items) {
      prompts = new Map(items.prompts.filter((p) => p.template).map((p) => [p.originalName, p]));
      resources = new Map(items.resources.filter((r) => r.localContent).map((r) => [r.uri, r]));
      catalog = {
        ...emptyUpstreamCatalog,
        prompts: [...prompts.values()].map((p): Prompt => ({
          ...p.definition,
          name: p.originalName,
          arguments: templateArguments(p.template!),
        })),
        resources: [...resources.values()].map((r) => r.definition as Resource),
      };
      for (const listener of listeners) listener({ type: 'catalog', kinds: ['prompts', 'resources'] });
    },
    async request(method, params) {
      if (method === 'prompts/get') {
        const prompt = prompts.get(String(params?.name));
        if (!prompt?.template)
          throw new RpcError(RpcErrorCode.InvalidParams, `Unknown prompt: ${String(params?.name)}`);
        const rendered = renderLocalPrompt(
          prompt.template,
          (params?.arguments ?? {}) as Record<string, unknown>,
        );
        return { description: prompt.definition.description, ...rendered };
      }
      if (method === 'resources/read') {
        const resource = resources.get(String(params?.uri));
        const content = resource?.localContent;
        if (!resource || !content) {
          throw new RpcError(RpcErrorCode.ResourceNotFound, `Resource not found: ${String(params?.uri)}`, {
            uri: params?.uri,
          });
        }
        const mimeType = (resource.definition as Resource).mimeType;
        return { contents: [{ uri: resource.uri, ...(mimeType ? { mimeType } : {}), ...content }] };
      }
      throw new RpcError(RpcErrorCode.MethodNotFound, `Method not found: ${method}`);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onNotification: () => () => undefined,
    async notify() {},
    async releaseSession() {},
  };
}
