import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  conformanceStdioCommand,
  runConformanceSuite,
  startConformanceHttpFixture,
  type ConformanceHttpFixture,
  type ConformanceSuiteResult,
} from '@mcp-gateway/testing';
import { startGateway } from './start-gateway.ts';
import { testConfig, waitForReadyUpstreams } from './test-support.ts';

/**
 * The official conformance suite (0.1.16, --suite all), run directly against our fixture and through the gateway
 * with the fixture as a stdio upstream and as a streamable-HTTP upstream, exposed unprefixed. The gateway must pass
 * every scenario the fixture passes directly, dns-rebinding-protection included.
 */
describe('official MCP conformance suite through the gateway', () => {
  let fixture: ConformanceHttpFixture;
  let direct: ConformanceSuiteResult;

  const passedNames = (result: ConformanceSuiteResult) =>
    result.scenarios
      .filter((s) => s.passed)
      .map((s) => s.name)
      .sort();

  beforeAll(async () => {
    fixture = await startConformanceHttpFixture();
    direct = await runConformanceSuite({ url: fixture.url, suite: 'all' });
  }, 300_000);

  afterAll(async () => {
    await fixture?.close();
  });

  it('the fixture passes the suite directly', () => {
    expect(direct.failed).toBe(0);
    expect(passedNames(direct)).toContain('dns-rebinding-protection');
  });

  for (const upstream of ['stdio', 'streamable-http'] as const) {
    it(`the gateway passes every scenario the fixture passes, with a ${upstream} upstream`, async () => {
      await using config = await testConfig();
      const gateway = await startGateway({
        config,
        gateways: [
          upstream === 'stdio'
            ? {
                name: 'conformance',
                transport: 'stdio',
                ...conformanceStdioCommand(),
                namespace: '',
                env: {},
                headers: {},
                enabled: true,
                tags: [],
              }
            : {
                name: 'conformance',
                transport: 'streamable-http',
                url: fixture.url,
                namespace: '',
                args: [],
                env: {},
                headers: {},
                enabled: true,
                tags: [],
              },
        ],
      });
      try {
        await waitForReadyUpstreams(gateway, 1);
        const through = await runConformanceSuite({ url: gateway.mcpUrl, suite: 'all' });
        const failures = through.scenarios
          .filter((s) => !s.passed)
          .map((s) => `${s.name}: ${s.failures.join('; ')}`);
        expect(failures).toEqual([]);
        expect(passedNames(through)).toEqual(passedNames(direct));
      } finally {
        await gateway.close();
      }
    }, 300_000);
  }
});
