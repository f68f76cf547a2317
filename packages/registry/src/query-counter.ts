import type { KyselyPlugin } from 'kysely';

/** A Kysely plugin that counts the queries it sees. Install it with `createDatabase({ plugins: [counter] })`. */
export interface QueryCounter extends KyselyPlugin {
  /** Queries since creation or the last {@link QueryCounter.reset}. */
  count(): number;
  reset(): void;
}

/**
 * Counts every query Kysely compiles through the database it is installed on (including raw `sql` and migrations;
 * `BEGIN`/`COMMIT` are issued by the driver and not counted). Tests use it to prove a path issues no queries, e.g.
 * that the hot path reads only the in-memory snapshot.
 */
export function createQueryCounter(): QueryCounter {
  let queries = 0;
  return {
    transformQuery(args) {
      queries += 1;
      return args.node;
    },
    async transformResult(args) {
      return args.result;
    },
    count: () => queries,
    reset() {
      queries = 0;
    },
  };
}
