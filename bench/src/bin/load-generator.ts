// The load generator as its own process, so it never shares an event loop with the server under test.
//   node dist/load-generator.js '<job json>'
// Jobs:
//   {"mode":"run", ...LoadOptions}                       prints `PHASE measure` and `PHASE done` as the measured
//                                                        window opens and closes, then `RESULT <json>`, and exits
//   {"mode":"hold","target":…,"sessions":N,"holdMs":M}   opens N sessions, prints `READY <json>`, keeps them open
//                                                        until a line arrives on stdin (or M ms pass), closes
//                                                        them, prints `DONE` and exits
import { createInterface } from 'node:readline';
import { closeSessions, openSessions, runLoad, type LoadJob } from '../load-generator.ts';

async function hold(job: Extract<LoadJob, { mode: 'hold' }>): Promise<void> {
  const opened = await openSessions(job.target, job.sessions, 16);
  process.stdout.write(
    `READY ${JSON.stringify({ opened: opened.sessions.length, errors: opened.errors.slice(0, 5) })}\n`,
  );
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, job.holdMs);
    const lines = createInterface({ input: process.stdin });
    const done = () => {
      clearTimeout(timer);
      lines.close();
      resolve();
    };
    lines.once('line', done);
    lines.once('close', done);
  });
  await closeSessions(opened.sessions);
  process.stdout.write('DONE\n');
}

async function main(argv: string[]): Promise<void> {
  const job = JSON.parse(argv[0] ?? '') as LoadJob;
  if (job.mode === 'run') {
    const { mode: _mode, ...options } = job;
    const result = await runLoad({
      ...options,
      onPhase: (phase) => process.stdout.write(`PHASE ${phase}\n`),
    });
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    return;
  }
  if (job.mode === 'hold') {
    await hold(job);
    return;
  }
  throw new Error(`unknown job mode: ${JSON.stringify((job as { mode?: unknown }).mode)}`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stdout.write(`ERROR ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
