// Vitest global setup: one throwaway Postgres server per test run, shared by every test file through `inject`.
// Each suite creates its own database in it (createTestDatabase), so files running in parallel never collide.
import { startPostgres } from '@mcp-gateway/testing';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startPostgres();
  project.provide('postgresUrl', server.url);
  return () => server.stop();
}
