// The fake upstreams' names and tools, shared by scale-upstreams.ts (which serves them) and catalog-scale.ts.
import type { Tool } from '@modelcontextprotocol/server';

const VERBS = [
  'Lists',
  'Fetches',
  'Creates',
  'Updates',
  'Deletes',
  'Searches',
  'Summarizes',
  'Exports',
  'Validates',
  'Archives',
];
const OBJECTS = [
  'invoices',
  'orders',
  'contacts',
  'issues',
  'reports',
  'files',
  'events',
  'messages',
  'documents',
  'releases',
];
const DOMAINS = [
  'billing',
  'inventory',
  'CRM',
  'ticketing',
  'analytics',
  'storage',
  'calendar',
  'mail',
  'search',
  'deploy',
];

/** Upstream names: u001, u002, … (three digits up to 999). */
export function upstreamName(index: number): string {
  return `u${String(index + 1).padStart(3, '0')}`;
}

/** The `count` tools of upstream `name`: tool_0 … tool_<count-1>. */
export function upstreamTools(name: string, count: number): Tool[] {
  return Array.from({ length: count }, (_, index): Tool => {
    const verb = VERBS[index % VERBS.length] ?? 'Lists';
    const object = OBJECTS[Math.floor(index / VERBS.length) % OBJECTS.length] ?? 'items';
    const domain = DOMAINS[(index + name.length) % DOMAINS.length] ?? 'core';
    return {
      name: `tool_${index}`,
      description: `${verb} ${object} in the ${domain} service (${name}); filters by status and date range, returns one page.`,
      inputSchema: {
        type: 'object',
        properties: {
          query: { type: 'string', description: `Free-text filter on ${object}` },
          status: { type: 'string', enum: ['open', 'closed', 'all'] },
          limit: { type: 'integer', minimum: 1, maximum: 100, description: 'Page size' },
        },
        required: ['query'],
      },
      annotations: { readOnlyHint: verb !== 'Deletes' && verb !== 'Creates' && verb !== 'Updates' },
    };
  });
}
