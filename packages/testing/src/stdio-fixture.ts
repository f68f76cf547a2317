import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** A command line that starts a process: what a stdio upstream is configured with. */
export interface FixtureCommand {
  command: string;
  args: string[];
}

const binPath = fileURLToPath(new URL('./bin/stdio-fixture.ts', import.meta.url));
// Resolved from this package, so the command works whatever the caller's working directory is.
const tsxLoaderPath = createRequire(import.meta.url).resolve('tsx/esm');

/**
 * The command that runs a fixture server named `name` over stdio, with the current Node and tsx's ESM
 * loader (no build step). On start it logs `fixture <name> started pid=<pid>` to stderr; it exits when
 * stdin closes.
 */
export function stdioFixtureCommand(name: string): FixtureCommand {
  return { command: process.execPath, args: ['--import', tsxLoaderPath, binPath, name] };
}
