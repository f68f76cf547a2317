import { defineConfig } from 'tsup';

// The app is bundled with our workspace packages inlined, so `node dist/cli.js` runs without a TypeScript loader;
// third-party packages stay external and resolve from this app's node_modules.
export default defineConfig({
  entry: ['src/cli.ts', 'src/index.ts'],
  format: ['esm'],
  dts: false,
  clean: true,
  sourcemap: true,
  target: 'node20',
  noExternal: [/^@mcp-gateway\//],
});
