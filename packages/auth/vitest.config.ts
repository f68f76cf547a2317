import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Starts one throwaway Postgres (or uses TEST_DATABASE_URL) for the Kysely store suites.
    globalSetup: ['./src/test-global-setup.ts'],
  },
});
