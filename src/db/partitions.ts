import { sql } from 'drizzle-orm';
import type { Database } from './client.js';

/**
 * The tables partitioned by day of their UUIDv7 `id` (see drizzle/0010_engine_v2.sql): a
 * partition is `<table>_YYYYMMDD` and holds the rows made that day (UTC).
 */
export const PARTITIONED_TABLES = ['events', 'delivery_history', 'delivery_attempts'] as const;

/** Days made ahead, so that a process running past midnight always finds tomorrow's partitions. */
const DAYS_AHEAD = 3;

/**
 * Makes the partitions from yesterday to a few days ahead where missing (any number of
 * processes may at once). Run at migration and by the upkeep job.
 */
export async function ensurePartitions(database: Database, now = new Date()): Promise<number> {
  const day = now.toISOString().slice(0, 10);
  const [row] = await database.rows<{ made: number }>(
    sql`select hookline_ensure_partitions(${day}::date - 1, ${day}::date + ${DAYS_AHEAD}::int) as made`,
  );
  return Number(row?.made ?? 0);
}

export interface Partition {
  table: (typeof PARTITIONED_TABLES)[number];
  name: string;
  /** The UTC day it holds. */
  day: string;
}

/** The day partitions of the partitioned tables, oldest first. */
export async function listPartitions(database: Database): Promise<Partition[]> {
  const rows = await database.rows<{ parent: string; name: string }>(sql`
    select p.relname as parent, c.relname as name
      from pg_inherits i
      join pg_class c on c.oid = i.inhrelid
      join pg_class p on p.oid = i.inhparent
     where p.relname in ('events', 'delivery_history', 'delivery_attempts')
       and c.relnamespace = p.relnamespace
       and p.relnamespace = current_schema()::regnamespace
  `);
  return rows
    .flatMap((r) => {
      const match = /_(\d{4})(\d{2})(\d{2})$/.exec(r.name);
      return match
        ? [
            {
              table: r.parent as Partition['table'],
              name: r.name,
              day: `${match[1]}-${match[2]}-${match[3]}`,
            },
          ]
        : [];
    })
    .sort((a, b) => a.day.localeCompare(b.day) || a.name.localeCompare(b.name));
}

/**
 * Drops a partition without holding a lock that publishing or claiming would wait for: on
 * PostgreSQL it is detached CONCURRENTLY first (the parent is never locked against reads or
 * writes), then dropped as a table of its own. Embedded PGlite has one connection, so nothing
 * can wait there: it is detached and dropped at once.
 */
export async function dropPartition(database: Database, partition: Partition): Promise<void> {
  const parent = sql.identifier(partition.table);
  const table = sql.identifier(partition.name);
  if (database.kind === 'pglite') {
    await database.rows(sql`alter table ${parent} detach partition ${table}`);
  } else {
    // A detach interrupted half-way (a process killed) leaves it pending; FINALIZE completes it.
    try {
      await database.rows(sql`alter table ${parent} detach partition ${table} concurrently`);
    } catch (error) {
      if (!/pending detach|is not a partition/i.test((error as Error).message)) throw error;
      if (/pending detach/i.test((error as Error).message)) {
        await database.rows(sql`alter table ${parent} detach partition ${table} finalize`);
      }
    }
  }
  await database.rows(sql`drop table if exists ${table}`);
}
