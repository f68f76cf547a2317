import { signalProcessGroup } from './process-group.ts';

/** A process group started by a stdio transport, registered from spawn until the whole group is gone. */
export interface RegisteredProcessGroup {
  /** The child's pid, which is also its process group id. */
  readonly pid: number;
  /** Graceful shutdown: SIGTERM, then SIGKILL after the transport's grace; resolves when the group is gone. */
  close(): Promise<void>;
}

// Module state on purpose: this is the safety net for the whole gateway process, so it has to see every transport
// no matter who created it. (Two copies of this package in one process would keep two registries.)
const liveGroups = new Set<RegisteredProcessGroup>();

/** Adds a group to the registry; the returned function removes it. */
export function registerProcessGroup(group: RegisteredProcessGroup): () => void {
  liveGroups.add(group);
  return () => {
    liveGroups.delete(group);
  };
}

/**
 * Sends `signal` (default SIGKILL) to every process group a stdio transport started and that is not known to be
 * gone, and returns how many it signalled. Synchronous, so it works inside `process.on('exit')`, where nothing
 * asynchronous runs any more; that is also why the default is SIGKILL: there will be no second chance to escalate.
 *
 * Children live in their own process groups (so that their helpers can be reaped with them), which also means a
 * Ctrl-C in the terminal or a signal to the gateway does not reach them. The gateway app therefore calls
 * {@link closeAllStdioProcesses} on SIGTERM/SIGINT and this function on `exit`.
 */
export function killAllStdioProcesses(signal: NodeJS.Signals = 'SIGKILL'): number {
  let signalled = 0;
  for (const group of liveGroups) {
    try {
      if (signalProcessGroup(group.pid, signal)) signalled += 1;
    } catch {
      // EPERM and the like: nothing better to do while exiting.
    }
  }
  return signalled;
}

/**
 * Closes every stdio transport's process group gracefully (SIGTERM, then SIGKILL after each transport's
 * `killGraceMs`) and resolves when all are gone. The gateway app awaits this on SIGTERM/SIGINT before exiting.
 */
export async function closeAllStdioProcesses(): Promise<void> {
  await Promise.allSettled([...liveGroups].map((group) => group.close()));
}
