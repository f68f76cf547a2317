import { readFileSync, readdirSync } from 'node:fs';

// Children are spawned with `detached: true`, so each is the leader of its own process group whose id is its pid;
// signalling `-pid` reaches the child and every descendant that stayed in the group. Windows has no process groups:
// there only the child itself is signalled.

/** Sends `signal` to the process group led by `pid`. Returns false when the group no longer exists. */
export function signalProcessGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(process.platform === 'win32' ? pid : -pid, signal);
    return true;
  } catch (error) {
    if (isErrnoException(error) && error.code === 'ESRCH') return false;
    throw error;
  }
}

/**
 * True while the group led by `pid` has a member that is still running. A member that has exited but was not reaped
 * (a zombie) does not count: in containers whose PID 1 does not reap orphans, killed grandchildren stay zombies
 * forever, and waiting for them would turn every close into a full kill grace.
 */
export function processGroupHasLiveMembers(pid: number): boolean {
  try {
    process.kill(process.platform === 'win32' ? pid : -pid, 0);
  } catch (error) {
    if (isErrnoException(error) && error.code === 'ESRCH') return false;
    return true; // EPERM: it exists, we just may not signal it.
  }
  if (process.platform !== 'linux') return true;
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = readProcStat(entry);
      if (stat !== undefined && stat.processGroup === pid && stat.state !== 'Z' && stat.state !== 'X')
        return true;
    }
    return false;
  } catch {
    return true;
  }
}

function readProcStat(pid: string): { state: string; processGroup: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited while we were looking
  }
  // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses, so split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const processGroup = Number(fields[2]);
  return state === undefined ? undefined : { state, processGroup };
}

/** Narrows an unknown error to a Node system error. */
export function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}
