import { defineConfig } from 'tsup';

// The app is bundled with our workspace packages inlined, so `node dist/cli.js` runs without a TypeScript loader.
// Third-party packages the app depends on stay external; those only our packages depend on (OpenTelemetry, …) are
// bundled, and some are CommonJS that calls `require`: the banner gives the ESM bundle a real one.
export default defineConfig({
  entry: ['src/cli.ts', 'src/index.ts'],
  format: ['esm'],
  dts: false,
  clean: true,
  sourcemap: true,
  target: 'node20',
  noExternal: [/^@mcp-gateway\//],
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
});
