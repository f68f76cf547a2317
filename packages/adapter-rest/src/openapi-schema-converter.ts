// Turns OpenAPI schemas (2.0, 3.0, 3.1) into self-contained JSON Schema 2020-12: every local `$ref` inlined,
// OpenAPI 3.0 dialect rewritten (`nullable`, boolean `exclusiveMinimum`, `example`), vendor extensions dropped,
// readOnly properties removed from requests and writeOnly ones from responses. A reference back into a schema
// being expanded (a recursive type) is cut and replaced by an open schema that says so. External references are
// not fetched (that would be an outbound request of its own): they become open schemas and a warning.

type Json = Record<string, unknown>;

/** Request schemas drop readOnly properties; response schemas drop writeOnly ones. */
export type SchemaMode = 'request' | 'response';

/** Options of {@link createOpenApiSchemaConverter}. */
export interface OpenApiSchemaConverterOptions {
  /** The whole document, for resolving `#/…` references. */
  document: Json;
  /** OpenAPI 2.0 and 3.0 use the 3.0 schema dialect; 3.1 is JSON Schema 2020-12 already. */
  dialect: '3.0' | '3.1';
  warn: (message: string) => void;
}

/** Converts schemas and resolves references for one document, memoizing expanded components. */
export interface OpenApiSchemaConverter {
  convert(schema: unknown, mode: SchemaMode): Json;
  /** Follows `$ref` chains of non-schema objects (parameters, request bodies, responses). */
  resolve<T = Json>(node: unknown): T | undefined;
}

const SCHEMA_MAP_KEYWORDS = ['properties', 'patternProperties', 'dependentSchemas', '$defs', 'definitions'];
const SCHEMA_LIST_KEYWORDS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SCHEMA_KEYWORDS = [
  'additionalProperties',
  'items',
  'not',
  'if',
  'then',
  'else',
  'contains',
  'propertyNames',
  'unevaluatedProperties',
  'unevaluatedItems',
  'additionalItems',
];
const DROPPED_KEYWORDS = new Set([
  'xml',
  'discriminator',
  'externalDocs',
  'example',
  'nullable',
  '$schema',
  '$id',
]);

/** Creates an {@link OpenApiSchemaConverter}. */
export function createOpenApiSchemaConverter(options: OpenApiSchemaConverterOptions): OpenApiSchemaConverter {
  const { document, dialect, warn } = options;
  const memo = new Map<string, Json>();
  const warned = new Set<string>();
  let cuts = 0;

  const pointer = (ref: string): unknown => {
    if (!ref.startsWith('#')) return undefined;
    let node: unknown = document;
    for (const raw of ref.slice(1).split('/').slice(1)) {
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      if (typeof node !== 'object' || node === null) return undefined;
      node = (node as Json)[key];
    }
    return node;
  };

  const unresolved = (ref: string): Json => {
    if (!warned.has(ref)) {
      warned.add(ref);
      warn(
        `reference "${ref}" ${ref.startsWith('#') ? 'points nowhere' : 'is external and was not fetched'}`,
      );
    }
    return { description: `Unresolved reference ${ref}` };
  };

  const convert = (node: unknown, mode: SchemaMode, stack: string[]): Json => {
    if (typeof node === 'boolean') return node ? {} : { not: {} };
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return {};
    const schema = node as Json;
    const ref = schema.$ref;
    if (typeof ref === 'string') {
      const { $ref: _ref, ...siblings } = schema;
      const key = `${mode}\n${ref}`;
      let target = memo.get(key);
      if (!target) {
        if (stack.includes(ref)) {
          cuts += 1;
          const name = ref.split('/').pop() ?? ref;
          return { description: `A ${name} (recursive; not expanded further)` };
        }
        const found = pointer(ref);
        if (found === undefined) return unresolved(ref);
        const cutsBefore = cuts;
        target = convert(found, mode, [...stack, ref]);
        // A component expanded without cutting a cycle is the same everywhere: reuse it.
        if (cuts === cutsBefore) memo.set(key, target);
      }
      const extra = Object.keys(siblings).length > 0 ? convert(siblings, mode, stack) : undefined;
      return extra && Object.keys(extra).length > 0 ? { ...target, ...extra } : target;
    }

    const out: Json = {};
    for (const [key, value] of Object.entries(schema)) {
      if (key.startsWith('x-') || DROPPED_KEYWORDS.has(key)) continue;
      if (SCHEMA_MAP_KEYWORDS.includes(key) && typeof value === 'object' && value !== null) {
        if (key === '$defs' || key === 'definitions') continue; // everything is inlined
        const map: Json = {};
        for (const [name, child] of Object.entries(value as Json)) map[name] = convert(child, mode, stack);
        out[key] = map;
      } else if (SCHEMA_LIST_KEYWORDS.includes(key) && Array.isArray(value)) {
        out[key] = value.map((child) => convert(child, mode, stack));
      } else if (SCHEMA_KEYWORDS.includes(key) && (typeof value === 'object' || typeof value === 'boolean')) {
        if (key === 'items' && Array.isArray(value)) {
          out.prefixItems = value.map((child) => convert(child, mode, stack)); // draft-04 tuple form
        } else out[key] = convert(value, mode, stack);
      } else out[key] = value;
    }

    if (dialect === '3.0') {
      // An example is a value, not a schema; one that is a reference to an Example Object is dropped.
      const example = schema.example as { $ref?: unknown } | undefined;
      if (example !== undefined && typeof example?.$ref !== 'string' && !('examples' in out)) {
        out.examples = [example];
      }
      for (const [bound, exclusive] of [
        ['minimum', 'exclusiveMinimum'],
        ['maximum', 'exclusiveMaximum'],
      ] as const) {
        if (typeof out[exclusive] === 'boolean') {
          if (out[exclusive] === true && typeof out[bound] === 'number') {
            out[exclusive] = out[bound];
            delete out[bound];
          } else delete out[exclusive];
        }
      }
      if (schema.nullable === true) return nullable(out);
    }

    // Properties that do not belong in this direction.
    const properties = out.properties as Record<string, Json> | undefined;
    if (properties) {
      const hidden = mode === 'request' ? 'readOnly' : 'writeOnly';
      const dropped = Object.keys(properties).filter((name) => properties[name]?.[hidden] === true);
      if (dropped.length > 0) {
        out.properties = Object.fromEntries(
          Object.entries(properties).filter(([name]) => !dropped.includes(name)),
        );
        if (Array.isArray(out.required)) {
          out.required = (out.required as string[]).filter((name) => !dropped.includes(name));
          if ((out.required as string[]).length === 0) delete out.required;
        }
      }
    }
    return out;
  };

  const resolve = <T>(node: unknown): T | undefined => {
    let current = node;
    for (let hops = 0; hops < 20; hops++) {
      if (typeof current !== 'object' || current === null) return undefined;
      const ref = (current as Json).$ref;
      if (typeof ref !== 'string') return current as T;
      current = pointer(ref);
      if (current === undefined) {
        unresolved(ref);
        return undefined;
      }
    }
    return undefined;
  };

  return { convert: (schema, mode) => convert(schema, mode, []), resolve };
}

/** OpenAPI 3.0 `nullable: true` in JSON Schema terms. */
function nullable(schema: Json): Json {
  const type = schema.type;
  if (typeof type === 'string') schema.type = [type, 'null'];
  else if (Array.isArray(type) && !type.includes('null')) schema.type = [...(type as unknown[]), 'null'];
  else if (type === undefined) return { anyOf: [schema, { type: 'null' }] };
  if (Array.isArray(schema.enum) && !schema.enum.includes(null))
    schema.enum = [...(schema.enum as unknown[]), null];
  return schema;
}
