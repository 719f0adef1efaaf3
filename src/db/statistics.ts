import { sql } from 'drizzle-orm';
import type { Logger } from '../logger.js';
import type { Database } from './client.js';

export interface StatisticsKeeper {
  /** `n` rows of the tables were written; may start an ANALYZE in the background. */
  changed(n: number): void;
}

/**
 * Keeps the planner's statistics of fast-changing tables (by default the deliveries table; the
 * webhook service keeps the webhooks table's) fresh from inside the process, as
 * autovacuum would once a fifth of a table has changed, but at once. Embedded PGlite has no
 * autovacuum at all, and on PostgreSQL it looks once a minute: until then the plans of the
 * dispatcher's prepared statements, made and kept while the tables were empty, scan whole
 * tables (a claim read 13,000 rows through the wrong index to find 8, on a new database at
 * 2,000 deliveries a second). A table that has statistics already starts from its size, so a
 * process started on a large, analyzed database leaves it to autovacuum. Only the deliveries
 * table by default: the claim's plans hang on it, and an ANALYZE that also took the events
 * and attempts (their JSON bodies) cost 150 ms against 10-20 ms.
 */
export function createStatisticsKeeper(
  database: Database,
  options: {
    tables?: string[];
    /** The columns to analyze (default: all). */
    columns?: string[];
    minChanges?: number;
    fraction?: number;
    /**
     * Analyze only once the tables hold `fraction` more rows than when last analyzed, counted
     * when the changes reach the threshold (for tables whose changes are mostly deletes, such as
     * the queue as it drains).
     */
    growthOnly?: boolean;
    logger?: Logger;
  } = {},
): StatisticsKeeper {
  const { logger } = options;
  const tables = options.tables ?? ['delivery_queue'];
  const minChanges = options.minChanges ?? 1000;
  const fraction = options.fraction ?? 0.2;
  const targets = sql.raw(
    tables.map((t) => (options.columns ? `${t} (${options.columns.join(', ')})` : t)).join(', '),
  );
  let since = 0;
  /** Rows of the largest table when its statistics were last taken (null until read). */
  let size: number | null = null;
  let running = false;

  const threshold = () => Math.max(minChanges, (size ?? 0) * fraction);

  /** Rows of the largest of the tables, as its statistics say (0 before any). */
  async function largest(): Promise<number> {
    const regclasses = sql.join(
      tables.map((t) => sql`to_regclass(${t})`),
      sql`, `,
    );
    const [row] = await database.rows<{ rows: number | string | null }>(
      sql`select max(reltuples)::float8 as rows from pg_class where oid = any (array[${regclasses}])`,
    );
    return Math.max(0, Number(row?.rows ?? 0));
  }

  /** Whether a table now holds `fraction` more rows than at the last ANALYZE (counted up to that). */
  async function grown(): Promise<boolean> {
    const enough = Math.ceil((size ?? 0) * (1 + fraction)) + 1;
    const counts = sql.join(
      tables.map((t) => sql`(select count(*) from (select 1 from ${sql.identifier(t)} limit ${enough}) r)`),
      sql`, `,
    );
    const [row] = await database.rows<{ rows: number | string }>(
      sql`select greatest(${counts})::float8 as rows`,
    );
    return Number(row?.rows ?? 0) >= enough;
  }

  async function analyze() {
    size ??= await largest();
    if (since < threshold()) return;
    since = 0;
    if (options.growthOnly && !(await grown())) return;
    const started = Date.now();
    await database.rows(sql`analyze ${targets}`);
    size = await largest();
    logger?.debug({ tables, rows: size, ms: Date.now() - started }, 'refreshed planner statistics');
  }

  return {
    changed(n) {
      since += n;
      if (running || since < threshold()) return;
      running = true;
      analyze()
        .catch((error) => logger?.warn({ err: error }, 'could not refresh planner statistics'))
        .finally(() => {
          running = false;
        });
    },
  };
}
