import { Hono } from 'hono';
import {
  buildOpenApiDocument,
  type HttpMethod,
  type JsonSchema,
  type OpenApiDocument,
  type OpenApiOperation,
  type OpenApiOptions,
  type OpenApiParameter,
  type OpenApiResponse,
} from './openapi.ts';

const METHODS: readonly HttpMethod[] = ['get', 'post', 'put', 'patch', 'delete'];

const CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #fff; --code: #f6f8fa; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --muted: #9198a1; --line: #30363d; --bg: #0d1117; --code: #161b22; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 72rem; padding: 2rem 1.5rem 4rem; font: 15px/1.5 system-ui, sans-serif;
  color: var(--fg); background: var(--bg); }
h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
h2 { margin: 2.5rem 0 .25rem; font-size: 1.25rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
h4 { margin: 1rem 0 .25rem; font-size: .95rem; }
p { margin: .25rem 0 .75rem; }
.muted { color: var(--muted); }
nav a { margin-right: 1rem; }
details.op { border: 1px solid var(--line); border-radius: 6px; margin: .5rem 0; }
details.op > summary { cursor: pointer; padding: .5rem .75rem; list-style: none; display: flex; gap: .75rem;
  align-items: baseline; }
details.op > summary::-webkit-details-marker { display: none; }
details.op[open] > summary { border-bottom: 1px solid var(--line); }
.body { padding: .25rem .75rem .75rem; }
.method { display: inline-block; min-width: 4.2rem; text-align: center; font: 600 .8rem ui-monospace, monospace;
  text-transform: uppercase; padding: .1rem .4rem; border-radius: 4px; color: #fff; }
.get { background: #0969da; } .post { background: #1a7f37; } .put { background: #9a6700; }
.patch { background: #8250df; } .delete { background: #cf222e; }
.path { font: 600 .95rem ui-monospace, monospace; }
table { border-collapse: collapse; width: 100%; margin: .25rem 0; }
th, td { text-align: left; border-bottom: 1px solid var(--line); padding: .3rem .5rem; vertical-align: top; }
ul.responses { padding-left: 1.25rem; margin: .25rem 0; } ul.responses li { margin: .2rem 0; }
code, pre { font: .85rem/1.4 ui-monospace, monospace; }
pre { background: var(--code); border: 1px solid var(--line); border-radius: 6px; padding: .6rem .75rem;
  overflow: auto; max-height: 28rem; margin: .25rem 0 .5rem; }
`;

/** Escapes text for HTML content and attribute values. */
function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Escapes a description, showing its `code` spans (the only Markdown the document uses) as code. */
function prose(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

/** Follows one `$ref` into the document's components (`#/components/<section>/<name>`). */
function resolve<T>(document: OpenApiDocument, value: T | { $ref: string }): T {
  if (typeof value !== 'object' || value === null || !('$ref' in value)) return value;
  const [, , section, name] = value.$ref.split('/');
  const components = document.components as unknown as Record<string, Record<string, T> | undefined>;
  const found = components[section ?? '']?.[name ?? ''];
  return found ?? (value as T);
}

/** A schema as pretty JSON; a top-level `$ref` to a component is shown resolved, under its name. */
function schemaBlock(document: OpenApiDocument, schema: JsonSchema): string {
  const name = typeof schema.$ref === 'string' ? schema.$ref.split('/').at(-1) : undefined;
  const resolved = resolve(document, schema as JsonSchema | { $ref: string });
  const title = name === undefined ? '' : `<div class="muted"><code>${escapeHtml(name)}</code></div>`;
  return `${title}<pre>${escapeHtml(JSON.stringify(resolved, null, 2))}</pre>`;
}

function parametersTable(document: OpenApiDocument, parameters: readonly OpenApiParameter[]): string {
  if (parameters.length === 0) return '';
  const rows = parameters.map((reference) => {
    const parameter = resolve(document, reference);
    if ('$ref' in parameter) return '';
    const type = JSON.stringify(parameter.schema);
    return `<tr><td><code>${escapeHtml(parameter.name)}</code>${parameter.required === true ? ' *' : ''}</td><td>${parameter.in}</td><td><code>${escapeHtml(type)}</code></td><td>${prose(parameter.description ?? '')}</td></tr>`;
  });
  return `<h4>Parameters</h4><table><tr><th>Name</th><th>In</th><th>Schema</th><th>Description</th></tr>${rows.join('')}</table>`;
}

function responsesBlock(document: OpenApiDocument, responses: Record<string, OpenApiResponse>): string {
  const items = Object.entries(responses).map(([status, reference]) => {
    const response = resolve(document, reference);
    if ('$ref' in response) return '';
    // Shared error responses all carry the Error body: named, not repeated under every operation.
    const schema = '$ref' in reference ? undefined : response.content?.['application/json']?.schema;
    const headers = Object.keys(response.headers ?? {});
    const headerNote =
      headers.length === 0
        ? ''
        : ` <span class="muted">Headers: ${headers.map((h) => `<code>${escapeHtml(h)}</code>`).join(', ')}</span>`;
    const shared = '$ref' in reference ? ' <span class="muted">(<code>Error</code> body)</span>' : '';
    return `<li><code>${escapeHtml(status)}</code> ${prose(response.description)}${shared}${headerNote}${schema === undefined ? '' : schemaBlock(document, schema)}</li>`;
  });
  return `<h4>Responses</h4><ul class="responses">${items.join('')}</ul>`;
}

function operationBlock(
  document: OpenApiDocument,
  entry: { method: HttpMethod; path: string; operation: OpenApiOperation },
): string {
  const { method, path, operation } = entry;
  const request = operation.requestBody?.content['application/json']?.schema;
  return `<details class="op" id="${escapeHtml(operation.operationId)}">
<summary><span class="method ${method}">${method}</span><span class="path">${escapeHtml(path)}</span><span>${escapeHtml(operation.summary)}</span></summary>
<div class="body">
${operation.description === undefined ? '' : `<p>${prose(operation.description)}</p>`}
${parametersTable(document, operation.parameters ?? [])}
${request === undefined ? '' : `<h4>Request body</h4>${schemaBlock(document, request)}`}
${responsesBlock(document, operation.responses)}
</div>
</details>`;
}

/**
 * A self-contained HTML page documenting `document`: operations grouped by tag, each with its method, path,
 * summary, parameters and request and response schemas. Rendered on the server with inline CSS and no script or
 * external asset, so it works offline and under a strict Content-Security-Policy.
 */
export function renderDocsPage(document: OpenApiDocument): string {
  const groups = new Map<string, Array<{ method: HttpMethod; path: string; operation: OpenApiOperation }>>();
  for (const tag of document.tags) groups.set(tag.name, []);
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation === undefined) continue;
      const tag = operation.tags[0] ?? 'other';
      const group = groups.get(tag) ?? [];
      group.push({ method, path, operation });
      groups.set(tag, group);
    }
  }
  const descriptions = new Map(document.tags.map((tag) => [tag.name, tag.description]));
  const sections = [...groups]
    .filter(([, operations]) => operations.length > 0)
    .map(
      ([tag, operations]) => `<section id="tag-${escapeHtml(tag)}">
<h2>${escapeHtml(tag)}</h2>
<p class="muted">${prose(descriptions.get(tag) ?? '')}</p>
${operations.map((entry) => operationBlock(document, entry)).join('\n')}
</section>`,
    );
  const nav = [...groups]
    .filter(([, operations]) => operations.length > 0)
    .map(([tag]) => `<a href="#tag-${escapeHtml(tag)}">${escapeHtml(tag)}</a>`)
    .join('');
  const title = `${document.info.title} ${document.info.version}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<p>${prose(document.info.description)}</p>
<p class="muted">Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${escapeHtml(document.openapi)})</p>
<nav>${nav}</nav>
</header>
${sections.join('\n')}
<section id="errors">
<h2>Errors</h2>
<p class="muted">Every error answer has this body; <code>details</code> names the fields at fault.</p>
${schemaBlock(document, { $ref: '#/components/schemas/Error' })}
</section>
</body>
</html>
`;
}

/**
 * `GET /openapi.json` (the document) and `GET /docs` (the page). Both are built once, on first request. Mount at
 * the root: `app.route('/', createApiDocsRoutes({ title, version }))`.
 */
export function createApiDocsRoutes(options: OpenApiOptions): Hono {
  let document: OpenApiDocument | undefined;
  let page: string | undefined;
  const documentOnce = () => (document ??= buildOpenApiDocument(options));
  const app = new Hono();
  app.get('/openapi.json', (c) => c.json(documentOnce()));
  app.get('/docs', (c) => {
    page ??= renderDocsPage(documentOnce());
    c.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
    return c.html(page);
  });
  return app;
}
