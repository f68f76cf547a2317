#!/usr/bin/env node
// The `mcp-gateway-wrapper` command: `mcp-gateway wrapper` without the gateway app. See WRAPPER_USAGE.
import { runWrapperCli } from '../wrapper-cli.ts';

process.exit(await runWrapperCli(process.argv.slice(2)));
