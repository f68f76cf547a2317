import { readFileSync } from 'node:fs';

/**
 * Whether a process is running. A zombie (exited, not yet reaped) counts as dead: in containers whose PID 1 never
 * reaps orphans, a killed grandchild stays a zombie forever and `kill(pid, 0)` alone would call it alive.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return process.platform !== 'linux';
  }
}
