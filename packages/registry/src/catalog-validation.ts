// Input checks shared by the stores and by importRegistry. Every check appends to a list of issues instead of
// throwing, so a caller can report every problem at once. Internal: not exported from index.ts.
import { PUBLIC_NAME_PATTERN } from '@mcp-gateway/core';
import { RegistryError } from './registry-error.ts';
import type { RegistryIssue } from './registry-error.ts';

/** Where the checks put what they find. */
export type Issues = RegistryIssue[];

/** Checks one present value (neither `undefined` nor an allowed `null`). */
export type Check = (value: unknown, path: string, issues: Issues) => void;

/** A field of a {@link Shape}. */
export interface FieldRule {
  check: Check;
  /** `null` is accepted (it clears the field in a patch, and means "absent" in a document). */
  nullable?: boolean;
}

/** The fields an object may have. */
export interface Shape {
  fields: Readonly<Record<string, FieldRule>>;
  required?: readonly string[];
}

/** `a.b` path joining, with `''` as the root. */
export function pathOf(base: string, key: string | number): string {
  return base === '' ? String(key) : `${base}.${key}`;
}

function push(issues: Issues, path: string, message: string): void {
  issues.push({ path: path === '' ? '(root)' : path, message });
}

/** A plain JSON object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A check of `value` against `shape`: an object, required fields present, each present field valid, and (with
 * `unknownKeys: 'report'`) no other keys. The check returns whether the value was an object at all.
 */
export function checkShape(
  shape: Shape & { unknownKeys?: 'report' | 'ignore' },
): (value: unknown, path: string, issues: Issues) => value is Record<string, unknown> {
  return (value, path, issues): value is Record<string, unknown> => {
    if (!isPlainObject(value)) {
      push(issues, path, 'must be an object');
      return false;
    }
    for (const key of shape.required ?? []) {
      if (value[key] === undefined || value[key] === null) push(issues, pathOf(path, key), 'is required');
    }
    for (const [key, item] of Object.entries(value)) {
      const rule = shape.fields[key];
      if (rule === undefined) {
        if (shape.unknownKeys === 'report') push(issues, pathOf(path, key), 'unknown field');
        continue;
      }
      if (item === undefined) continue;
      if (item === null) {
        if (rule.nullable !== true && !(shape.required ?? []).includes(key)) {
          push(issues, pathOf(path, key), 'must not be null');
        }
        continue;
      }
      rule.check(item, pathOf(path, key), issues);
    }
    return true;
  };
}

/** Throws `'invalid-input'` listing every issue, when there are any. */
export function throwIfIssues(issues: Issues, what: string): void {
  if (issues.length === 0) return;
  const first = issues.slice(0, 3).map((issue) => `${issue.path}: ${issue.message}`);
  const more = issues.length > 3 ? `; and ${issues.length - 3} more` : '';
  throw new RegistryError('invalid-input', `invalid ${what}: ${first.join('; ')}${more}`, {
    details: issues,
  });
}

/** A string; by default non-empty. */
export function text(
  rules: { pattern?: RegExp; message?: string; maxLength?: number; allowEmpty?: boolean } = {},
): Check {
  return (value, path, issues) => {
    if (typeof value !== 'string') return push(issues, path, 'must be a string');
    if (value.includes('\u0000')) return push(issues, path, 'must not contain NUL characters');
    if (value === '' && rules.allowEmpty !== true) return push(issues, path, 'must not be empty');
    if (rules.maxLength !== undefined && value.length > rules.maxLength) {
      return push(issues, path, `must be at most ${rules.maxLength} characters`);
    }
    if (rules.pattern !== undefined && !rules.pattern.test(value)) {
      push(issues, path, rules.message ?? `must match ${String(rules.pattern)}`);
    }
  };
}

/** `true` or `false`. */
export const bool: Check = (value, path, issues) => {
  if (typeof value !== 'boolean') push(issues, path, 'must be true or false');
};

/** A whole number within `[min, max]`. */
export function integer(min: number, max: number): Check {
  return (value, path, issues) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      push(issues, path, `must be a whole number from ${min} to ${max}`);
    }
  };
}

/** One of a few strings. */
export function oneOf(values: readonly string[]): Check {
  return (value, path, issues) => {
    if (typeof value !== 'string' || !values.includes(value)) {
      push(issues, path, `must be one of ${values.map((item) => `"${item}"`).join(', ')}`);
    }
  };
}

/** Any JSON object. */
export const plainObject: Check = (value, path, issues) => {
  if (!isPlainObject(value)) push(issues, path, 'must be an object');
};

/** A list of strings. */
export const stringList: Check = (value, path, issues) => {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    push(issues, path, 'must be a list of strings');
  }
};

/** An object whose values are strings. */
export const stringRecord: Check = (value, path, issues) => {
  if (!isPlainObject(value) || Object.values(value).some((item) => typeof item !== 'string')) {
    push(issues, path, 'must be an object of string values');
  }
};

/** Tags: a list of non-empty strings of at most 64 characters without surrounding spaces. */
export const tags: Check = (value, path, issues) => {
  if (!Array.isArray(value)) return push(issues, path, 'must be a list of strings');
  value.forEach((tag, index) => {
    if (typeof tag !== 'string' || tag === '' || tag.length > 64 || tag.trim() !== tag) {
      push(
        issues,
        pathOf(path, index),
        'must be a non-empty string of at most 64 characters, without surrounding spaces',
      );
    }
  });
};

/** A public tool or prompt name (the alias override): what MCP clients accept. */
export const alias: Check = text({
  pattern: PUBLIC_NAME_PATTERN,
  message: 'must be 1 to 64 letters, digits, "_" or "-"',
});

/** A resource alias: a URI-like string without whitespace. */
export const resourceAlias: Check = text({
  pattern: /^\S{1,2048}$/,
  message: 'must be 1 to 2048 characters without whitespace',
});

/** Who made a change (a user or token id). */
export const actor: Check = text({ maxLength: 200 });

/** An override of an item's description; may be empty. */
export const description: Check = text({ allowEmpty: true, maxLength: 10_000 });

const ICON_MAX_LENGTH = 256 * 1024;

/** A virtual server's icon: an http(s) URL or a `data:image/…` URI, at most 256 KiB. */
export const icon: Check = text({
  pattern: /^(https?:\/\/\S+|data:image\/[A-Za-z0-9.+-]+(;[^,]*)?,\S*)$/,
  message: 'must be an http:// or https:// URL or a data:image/… URI',
  maxLength: ICON_MAX_LENGTH,
});

/** An MCP tool as listed: `name` and an `inputSchema` object, anything else passed through. */
export const toolDefinition: Check = (value, path, issues) => {
  checkShape({
    required: ['name', 'inputSchema'],
    fields: { name: { check: text({ maxLength: 1000 }) }, inputSchema: { check: plainObject } },
    unknownKeys: 'ignore',
  })(value, path, issues);
};

/** An MCP prompt as listed: `name` and optional `arguments` with names. */
export const promptDefinition: Check = (value, path, issues) => {
  checkShape({
    required: ['name'],
    fields: {
      name: { check: text({ maxLength: 1000 }) },
      arguments: {
        check: list((item, itemPath, found) => checkShape(promptArgumentShape)(item, itemPath, found)),
      },
    },
    unknownKeys: 'ignore',
  })(value, path, issues);
};

const promptArgumentShape: Shape = {
  required: ['name'],
  fields: { name: { check: text({ maxLength: 200 }) } },
};

/** An MCP resource (`uri`, `name`) or resource template (`uriTemplate`, `name`) as listed. */
export function resourceDefinition(kind: 'resource' | 'template'): Check {
  const key = kind === 'resource' ? 'uri' : 'uriTemplate';
  return (value, path, issues) => {
    checkShape({
      required: [key, 'name'],
      fields: { [key]: { check: text({ maxLength: 4096 }) }, name: { check: text({ maxLength: 1000 }) } },
      unknownKeys: 'ignore',
    })(value, path, issues);
  };
}

/** Each item of a list checked with `item`. */
export function list(item: Check): Check {
  return (value, path, issues) => {
    if (!Array.isArray(value)) return push(issues, path, 'must be a list');
    value.forEach((entry, index) => item(entry, pathOf(path, index), issues));
  };
}

const ARGUMENT_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/** A local prompt's template: messages with a role and text, and typed, uniquely named arguments. */
export const promptTemplate: Check = (value, path, issues) => {
  if (
    !checkShape({
      required: ['messages'],
      fields: {
        messages: {
          check: list((message, messagePath, found) =>
            checkShape({
              required: ['role', 'text'],
              fields: {
                role: { check: oneOf(['user', 'assistant']) },
                text: { check: text({ allowEmpty: true, maxLength: 100_000 }) },
              },
              unknownKeys: 'report',
            })(message, messagePath, found),
          ),
        },
        arguments: {
          check: list((argument, argumentPath, found) =>
            checkShape({
              required: ['name'],
              fields: {
                name: {
                  check: text({
                    pattern: ARGUMENT_NAME,
                    message: 'must be a letter or "_" then letters, digits, "_" or "-" (at most 64)',
                  }),
                },
                description: { check: description },
                required: { check: bool },
                type: { check: oneOf(['string', 'number', 'integer', 'boolean']) },
              },
              unknownKeys: 'report',
            })(argument, argumentPath, found),
          ),
        },
      },
      unknownKeys: 'report',
    })(value, path, issues)
  ) {
    return;
  }
  if (Array.isArray(value.messages) && value.messages.length === 0) {
    push(issues, pathOf(path, 'messages'), 'must hold at least one message');
  }
  if (Array.isArray(value.arguments)) {
    const seen = new Set<unknown>();
    value.arguments.forEach((argument: unknown, index) => {
      const name = isPlainObject(argument) ? argument.name : undefined;
      if (typeof name !== 'string') return;
      if (seen.has(name))
        push(
          issues,
          pathOf(pathOf(pathOf(path, 'arguments'), index), 'name'),
          `duplicate argument "${name}"`,
        );
      seen.add(name);
    });
  }
};

/** A local resource's content: `{ text, mimeType? }` or `{ blob (base64), mimeType }`. */
export const localContent: Check = (value, path, issues) => {
  if (!isPlainObject(value)) return push(issues, path, 'must be an object');
  const mimeType = {
    check: text({
      pattern: /^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/,
      message: 'must be a MIME type such as text/plain',
    }),
  };
  if ('blob' in value) {
    checkShape({
      required: ['blob', 'mimeType'],
      fields: {
        blob: {
          check: text({ allowEmpty: true, pattern: /^[A-Za-z0-9+/]*={0,2}$/, message: 'must be base64' }),
        },
        mimeType,
      },
      unknownKeys: 'report',
    })(value, path, issues);
  } else {
    checkShape({
      required: ['text'],
      fields: { text: { check: text({ allowEmpty: true }) }, mimeType },
      unknownKeys: 'report',
    })(value, path, issues);
  }
};
