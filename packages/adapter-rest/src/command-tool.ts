import { spawn } from 'node:child_process';
import type { RpcResult, Tool } from '@mcp-gateway/core';
import { abortReason } from './abortable-sleep.ts';
import { RestAdapterError } from './rest-adapter-error.ts';
import {
  parseStringTemplate,
  renderStringTemplate,
  templateNames,
  type StringTemplate,
} from './string-template.ts';
import type { CommandToolDefinition } from './tool-definition.ts';
import { toolError, type CompiledTool, type ToolCall, type ToolRuntime } from './tool-runtime.ts';

const DEFAULT_MAX_OUTPUT = 1_048_576;
const STDERR_TAIL_BYTES = 4096;
const KILL_GRACE_MS = 2000;

/**
 * Compiles a command tool once: argv templates, environment, input and output checks, limits. Throws
 * `RestAdapterError` (`config-invalid`) naming the tool when a template names an argument the schema lacks.
 */
export function compileCommandTool(definition: CommandToolDefinition, runtime: ToolRuntime): CompiledTool {
  const { name } = definition;
  const [executable = '', ...argTemplates] = definition.command;
  const templates: StringTemplate[] = argTemplates.map(parseStringTemplate);
  const referenced = new Set(templates.flatMap(templateNames));
  if (definition.stdinFrom !== undefined) referenced.add(definition.stdinFrom);
  const inputSchema = definition.inputSchema ?? deriveInputSchema(referenced);
  const declared = (inputSchema.properties ?? {}) as Record<string, unknown>;
  for (const argument of referenced) {
    if (!(argument in declared)) {
      throw new RestAdapterError(
        'config-invalid',
        `tool "${name}": argument "${argument}" is used but not in the input schema`,
      );
    }
  }
  const checkInput = runtime.compiler.compile(inputSchema, `tool "${name}" input schema`);
  const wrapOutput = definition.outputSchema !== undefined && definition.outputSchema.type !== 'object';
  const outputSchema = definition.outputSchema
    ? wrapOutput
      ? { type: 'object', properties: { result: definition.outputSchema }, required: ['result'] }
      : definition.outputSchema
    : undefined;
  const checkOutput = outputSchema
    ? runtime.compiler.compile(outputSchema, `tool "${name}" output schema`)
    : undefined;
  const env: Record<string, string> = {};
  for (const variable of definition.envAllow ?? []) {
    const value = runtime.environment[variable];
    if (value !== undefined) env[variable] = value;
  }
  Object.assign(env, definition.env);
  const timeoutMs = definition.timeoutMs ?? 30_000;
  const maxOutputBytes = definition.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  const limiter = runtime.limiter({
    toolName: name,
    rateLimit: definition.rateLimit,
    maxConcurrent: definition.maxConcurrent,
    queueTimeoutMs: definition.queueTimeoutMs,
  });
  const tool: Tool = {
    name,
    ...(definition.title === undefined ? {} : { title: definition.title }),
    ...(definition.description === undefined ? {} : { description: definition.description }),
    inputSchema: inputSchema as Tool['inputSchema'],
    ...(outputSchema === undefined ? {} : { outputSchema }),
    ...(definition.annotations === undefined ? {} : { annotations: definition.annotations }),
  };

  const argvOf = (args: Record<string, unknown>): string[] =>
    templates.map((template) =>
      renderStringTemplate(template, (placeholder) => {
        const value = args[placeholder];
        if (value === undefined || value === null) {
          throw new RestAdapterError('invalid-arguments', `missing required "${placeholder}"`);
        }
        if (
          template.length === 1 &&
          typeof value === 'string' &&
          value.startsWith('-') &&
          definition.allowOptionLikeArguments !== true
        ) {
          throw new RestAdapterError(
            'invalid-arguments',
            `"${placeholder}" may not start with "-" (it would be read as an option)`,
          );
        }
        return typeof value === 'string' ? value : JSON.stringify(value);
      }),
    );

  const execute = (argv: string[], stdin: string | undefined, call: ToolCall) =>
    new Promise<RpcResult>((resolve, reject) => {
      const child = spawn(executable, argv, {
        cwd: definition.cwd,
        env,
        detached: true,
        shell: false,
        windowsHide: true,
        stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
      const stdout: Buffer[] = [];
      let stdoutBytes = 0;
      let truncated = false;
      let stderrTail = Buffer.alloc(0);
      let timedOut = false;
      let settled = false;
      let killTimer: ReturnType<typeof setTimeout> | undefined;

      const killGroup = () => {
        signalGroup(child.pid, 'SIGTERM');
        killTimer ??= setTimeout(() => signalGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
      };
      const untrack = runtime.trackProcess(killGroup);
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup();
      }, timeoutMs);
      const onAbort = () => killGroup();
      call.signal.addEventListener('abort', onAbort, { once: true });
      const finish = (result: RpcResult | Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        call.signal.removeEventListener('abort', onAbort);
        untrack();
        clearTimeout(killTimer);
        if (call.signal.aborted) reject(abortReason(call.signal));
        else if (result instanceof Error) reject(result);
        else resolve(result);
      };

      child.stdout?.on('data', (chunk: Buffer) => {
        if (truncated) return;
        if (stdoutBytes + chunk.byteLength > maxOutputBytes) {
          stdout.push(chunk.subarray(0, maxOutputBytes - stdoutBytes));
          stdoutBytes = maxOutputBytes;
          truncated = true;
          killGroup();
          return;
        }
        stdout.push(chunk);
        stdoutBytes += chunk.byteLength;
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        stderrTail = Buffer.concat([stderrTail, chunk]);
        if (stderrTail.byteLength > STDERR_TAIL_BYTES) stderrTail = stderrTail.subarray(-STDERR_TAIL_BYTES);
      });
      if (child.stdin) {
        child.stdin.on('error', () => undefined); // the child may exit without reading its input
        child.stdin.end(stdin);
      }
      child.on('error', (error) => {
        finish(toolError(`could not start "${executable}" for tool "${name}": ${error.message}`));
      });
      child.on('exit', (code, signal) => {
        // The call ends with its leader: stop what is left of the group (its output stays readable in the pipes),
        // then wait briefly for stdout and stderr to drain.
        signalGroup(child.pid, 'SIGKILL');
        const streamsClosed = new Promise((done) => child.on('close', done));
        void Promise.race([streamsClosed, new Promise((done) => setTimeout(done, 500))]).then(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          const output = Buffer.concat(stdout).toString('utf8');
          const stderr = stderrTail.toString('utf8');
          if (timedOut) {
            finish(
              toolError(
                `command "${name}" timed out after ${timeoutMs} ms; its process group was killed` +
                  tail(stderr, output),
              ),
            );
            return;
          }
          if (truncated) {
            finish({
              content: [
                {
                  type: 'text',
                  text: `${output}…[truncated: ${maxOutputBytes} of more than ${maxOutputBytes} bytes; process stopped]`,
                },
              ],
            });
            return;
          }
          if (code !== 0) {
            const how = code === null ? `was killed by ${signal ?? 'a signal'}` : `exited with code ${code}`;
            finish(toolError(`command "${name}" ${how}` + tail(stderr, output)));
            return;
          }
          finish(shapeOutput(output));
        });
      });
    });

  const shapeOutput = (output: string): RpcResult => {
    if (definition.output !== 'json') return { content: [{ type: 'text', text: output }] };
    let data: unknown;
    try {
      data = JSON.parse(output);
    } catch {
      return toolError(`command "${name}" printed output that is not JSON`, [{ type: 'text', text: output }]);
    }
    const structuredContent =
      !wrapOutput && typeof data === 'object' && data !== null && !Array.isArray(data)
        ? data
        : { result: data };
    const problem = checkOutput?.(structuredContent);
    if (problem !== undefined) {
      return toolError(`the output does not match the tool's output schema: ${problem}`, [
        { type: 'text', text: output },
      ]);
    }
    return { content: [{ type: 'text', text: output }], structuredContent };
  };

  return {
    tool,
    async run(args, call) {
      const problem = checkInput(args);
      if (problem !== undefined) return toolError(`Invalid arguments for tool "${name}": ${problem}`);
      let argv: string[];
      try {
        argv = argvOf(args);
      } catch (error) {
        if (error instanceof RestAdapterError)
          return toolError(`Invalid arguments for tool "${name}": ${error.message}`);
        throw error;
      }
      const stdinValue = definition.stdinFrom === undefined ? undefined : args[definition.stdinFrom];
      const stdin =
        definition.stdinFrom === undefined
          ? undefined
          : typeof stdinValue === 'string'
            ? stdinValue
            : stdinValue === undefined
              ? ''
              : JSON.stringify(stdinValue);
      let release: () => void;
      try {
        release = await limiter.acquire(call.signal);
      } catch (error) {
        if (error instanceof RestAdapterError) return toolError(error.message);
        throw error;
      }
      try {
        return await execute(argv, stdin, call);
      } finally {
        release();
      }
    },
  };
}

function deriveInputSchema(referenced: Set<string>): Record<string, unknown> {
  const properties = Object.fromEntries(
    [...referenced].map((name) => [name, { type: ['string', 'number', 'integer', 'boolean'] }]),
  );
  return { type: 'object', properties, required: [...referenced] };
}

function tail(stderr: string, stdout: string): string {
  if (stderr.trim() !== '') return `\nstderr (last ${STDERR_TAIL_BYTES} bytes):\n${stderr}`;
  if (stdout.trim() !== '')
    return `\nstdout (last ${STDERR_TAIL_BYTES} bytes):\n${stdout.slice(-STDERR_TAIL_BYTES)}`;
  return '';
}

/** Signals the process group led by `pid` (children are spawned detached, so each leads its own group). */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(process.platform === 'win32' ? pid : -pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}
