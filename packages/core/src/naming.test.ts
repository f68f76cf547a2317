import { describe, expect, it } from 'vitest';
import {
  DEFAULT_NAME_SEPARATOR,
  NAMESPACED_URI_PREFIX,
  parsePublicUri,
  PUBLIC_NAME_PATTERN,
  slugifyNamespace,
  toPublicName,
  toPublicUri,
} from './naming.ts';

describe('toPublicName', () => {
  it('joins namespace and name with the default separator', () => {
    expect(DEFAULT_NAME_SEPARATOR).toBe('__');
    expect(toPublicName('github', 'create_issue')).toBe('github__create_issue');
  });

  it('keeps valid names verbatim, case and dashes included', () => {
    expect(toPublicName('GitHub', 'createIssue')).toBe('GitHub__createIssue');
    expect(toPublicName('my-ns', 'Get-Item_2')).toBe('my-ns__Get-Item_2');
  });

  it('exposes the bare name for the empty namespace', () => {
    expect(toPublicName('', 'echo')).toBe('echo');
    expect(toPublicName('', 'MixedCase-Name')).toBe('MixedCase-Name');
  });

  it('uses a custom separator', () => {
    expect(toPublicName('ns', 'tool', '-')).toBe('ns-tool');
  });

  it('keeps a name of exactly 64 characters as it is', () => {
    const name = 'x'.repeat(64 - 'ns__'.length);
    expect(toPublicName('ns', name)).toBe(`ns__${name}`);
    expect(toPublicName('ns', name)).toHaveLength(64);
  });

  it('shortens over-long names to a valid, deterministic name of at most 64 characters', () => {
    const long = 'very_long_tool_name_'.repeat(10);
    const publicName = toPublicName('namespace', long);
    expect(publicName.length).toBeLessThanOrEqual(64);
    expect(publicName).toMatch(PUBLIC_NAME_PATTERN);
    expect(publicName.startsWith('namespace__very_long_tool_name_')).toBe(true);
    expect(toPublicName('namespace', long)).toBe(publicName);
  });

  it('gives distinct public names to many long names sharing a prefix', () => {
    const prefix = 'a_shared_prefix_that_is_long_enough_to_be_cut_off_by_the_limit_';
    const names = Array.from({ length: 500 }, (_, i) => `${prefix}${i}`);
    const publicNames = names.map((name) => toPublicName('ns', name));
    expect(new Set(publicNames).size).toBe(names.length);
    for (const publicName of publicNames) {
      expect(publicName).toMatch(PUBLIC_NAME_PATTERN);
    }
  });

  it('gives distinct public names to the same long name under different namespaces', () => {
    const long = 'n'.repeat(80);
    expect(toPublicName('a', long)).not.toBe(toPublicName('b', long));
  });

  it('makes names with dots, spaces and unicode valid and unique', () => {
    const inputs = [
      'read.file',
      'read file',
      'read_file.',
      'café',
      'cafe\u0301',
      '日本語',
      '日本',
      'a/b',
      'a\\b',
    ];
    const publicNames = inputs.map((name) => toPublicName('ns', name));
    for (const publicName of publicNames) {
      expect(publicName).toMatch(PUBLIC_NAME_PATTERN);
    }
    expect(new Set(publicNames).size).toBe(inputs.length);
    // A sanitised name never collides with the valid name it resembles.
    expect(publicNames).not.toContain('ns__read_file');
    expect(toPublicName('ns', 'read.file')).toMatch(/^ns__read_file-[0-9a-f]{8}$/);
  });

  it('makes an unprefixed invalid name valid', () => {
    const publicName = toPublicName('', 'tool with spaces');
    expect(publicName).toMatch(PUBLIC_NAME_PATTERN);
    expect(publicName.startsWith('tool_with_spaces-')).toBe(true);
  });

  it('gives an empty name a valid public name', () => {
    expect(toPublicName('', '')).toMatch(PUBLIC_NAME_PATTERN);
  });
});

describe('slugifyNamespace', () => {
  it.each([
    ['GitHub Tools', 'github-tools'],
    ['github', 'github'],
    ['  Leading and trailing  ', 'leading-and-trailing'],
    ['a__b', 'a-b'],
    ['Café Menu', 'caf-menu'],
    ['v2.0 API', 'v2-0-api'],
    ['---', 'upstream'],
    ['', 'upstream'],
    ['日本語', 'upstream'],
  ])('%j → %j', (name, slug) => {
    expect(slugifyNamespace(name)).toBe(slug);
  });

  it('cuts long names to 32 characters without a trailing dash', () => {
    const slug = slugifyNamespace(`${'a'.repeat(31)} bcd`);
    expect(slug).toBe('a'.repeat(31));
    expect(slugifyNamespace('x'.repeat(100))).toHaveLength(32);
  });

  it('never contains the default separator', () => {
    for (const name of ['a__b', 'a _ b', '__x__', 'A_-_B']) {
      expect(slugifyNamespace(name)).not.toContain(DEFAULT_NAME_SEPARATOR);
    }
  });
});

describe('toPublicUri and parsePublicUri', () => {
  it.each(['file:///a b', 'https://x/y?z', 'fixture://items/{id}', 'mem://{+path}', 'urn:isbn:123'])(
    'round-trips %j',
    (uri) => {
      const publicUri = toPublicUri('ns', uri);
      expect(publicUri).toBe(`${NAMESPACED_URI_PREFIX}ns/${uri}`);
      expect(parsePublicUri(publicUri)).toEqual({ namespace: 'ns', uri });
    },
  );

  it('leaves URIs of the empty namespace as they are', () => {
    expect(toPublicUri('', 'file:///a b')).toBe('file:///a b');
    expect(parsePublicUri(toPublicUri('', 'file:///a b'))).toBeUndefined();
  });

  it.each(['file:///a', 'https://x/y', 'mcpgw://', 'mcpgw://ns', 'mcpgw:///file:///a', 'MCPGW://ns/x'])(
    'returns undefined for the non-namespaced URI %j',
    (uri) => {
      expect(parsePublicUri(uri)).toBeUndefined();
    },
  );

  it('splits at the first slash so the original URI keeps its own slashes', () => {
    expect(parsePublicUri('mcpgw://ns/mcpgw://inner/file:///a')).toEqual({
      namespace: 'ns',
      uri: 'mcpgw://inner/file:///a',
    });
  });
});
