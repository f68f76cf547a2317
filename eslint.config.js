// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', '**/data/**', '**/*.config.ts', '**/*.mjs'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      'max-params': ['error', 3],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@mcp-gateway/*/src/*', '@mcp-gateway/*/src'],
              message: 'Import a package through its public entry.',
            },
          ],
        },
      ],
    },
  },
  {
    // Libraries speak Web standards; only apps compose them with Hono.
    files: ['packages/**/*.ts'],
    ignores: ['packages/testing/**', '**/*.test.ts', '**/*.test-support.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'hono', message: 'Only apps/* import Hono; libraries export fetch handlers.' }],
          patterns: [
            {
              group: ['@mcp-gateway/*/src/*', '@mcp-gateway/*/src'],
              message: 'Import a package through its public entry.',
            },
            { group: ['hono/*', '@hono/*'], message: 'Only apps/* import Hono.' },
          ],
        },
      ],
    },
  },
  {
    // Dependency directions: core imports none of our packages; transports and adapters never import the registry
    // or each other's internals; nothing in packages/ imports an app.
    files: ['packages/core/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@mcp-gateway/*'], message: 'core imports none of our packages.' }] },
      ],
    },
  },
  {
    files: [
      'packages/transport-*/src/**/*.ts',
      'packages/federation/src/**/*.ts',
      'packages/adapter-*/src/**/*.ts',
      'packages/auth/src/**/*.ts',
      'packages/observability/src/**/*.ts',
    ],
    ignores: ['**/*.test.ts', '**/*.test-support.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'hono', message: 'Only apps/* import Hono; libraries export fetch handlers.' }],
          patterns: [
            {
              group: ['@mcp-gateway/registry', '@mcp-gateway/gateway', '@mcp-gateway/admin'],
              message: 'Leaves get a router from core; they do not import the registry or apps.',
            },
            {
              group: ['@mcp-gateway/*/src/*', '@mcp-gateway/*/src'],
              message: 'Import a package through its public entry.',
            },
            { group: ['hono/*', '@hono/*'], message: 'Only apps/* import Hono.' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts'],
    rules: { 'max-params': 'off', '@typescript-eslint/unbound-method': 'off' },
  },
);
