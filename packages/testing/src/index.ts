// Public API of @mcp-gateway/testing (private package): fixtures and harness helpers for our tests.
export {
  createTestDatabase,
  startPostgres,
  type PostgresServer,
  type StartPostgresOptions,
} from './postgres-server.ts';
export {
  createFixtureServer,
  FIXTURE_BULK_TOOL_COUNT,
  FIXTURE_SLOW_MAX_MS,
  type FixtureServerOptions,
} from './fixture-server.ts';
export { startHttpFixture, type HttpFixture, type HttpFixtureOptions } from './http-fixture.ts';
export { startSseFixture, type SseFixtureOptions } from './sse-fixture.ts';
export { stdioFixtureCommand, type FixtureCommand } from './stdio-fixture.ts';
export { isProcessAlive } from './process-alive.ts';
export {
  createConformanceServer,
  CONFORMANCE_TOOL_NAMES,
  type ConformanceServerOptions,
} from './conformance-server.ts';
export {
  conformanceStdioCommand,
  startConformanceHttpFixture,
  type ConformanceHttpFixture,
  type ConformanceHttpFixtureOptions,
} from './conformance-fixture.ts';
export {
  runConformanceSuite,
  type ConformanceScenarioResult,
  type ConformanceSuiteResult,
  type RunConformanceSuiteOptions,
} from './conformance-runner.ts';
export {
  startAuthorizationServer,
  type AuthorizationServer,
  type AuthorizationServerOptions,
  type IssueTokenOptions,
  type TestSigningAlgorithm,
} from './authorization-server.ts';
export {
  FAULT_API_BINARIES,
  FAULT_API_USERS,
  startFaultApi,
  type FaultApi,
  type FaultApiOptions,
  type FaultApiRequest,
} from './fault-api-server.ts';
