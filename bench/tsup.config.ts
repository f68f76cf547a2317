import { defineConfig } from 'tsup';

// The harness runs as plain `node dist/*.js`: the echo upstream is spawned once per stdio session (by supergateway
// and by the stdio direct row), so it must start without a TypeScript loader. npm packages stay external.
export default defineConfig({
  entry: {
    'run-bench': 'src/run-bench.ts',
    'echo-server': 'src/bin/echo-server.ts',
    'load-generator': 'src/bin/load-generator.ts',
  },
  format: ['esm'],
  dts: false,
  clean: true,
  sourcemap: true,
  target: 'node20',
});
