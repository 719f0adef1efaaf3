import { sql } from 'drizzle-orm';
import type { Database } from './client.js';
import type { Logger } from '../logger.js';
import { dropPartition, ensurePartitions, listPartitions } from './partitions.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** How often a process looks: partitions are days, so hourly is plenty. */
const INTERVAL_MS = 60 * 60 * 1000;
/** Longer than a pass takes; a process that dies holding it blocks the others this long at most. */
const LEASE_MS = 10 * 60 * 1000;

export interface RetentionPass {
  /** False when another process held the upkeep lease. */
  ran: boolean;
  /** The partitions dropped, as table_YYYYMMDD. */
  dropped: string[];
  /** Deliveries still queued whose day was dropped (their event went with it). */
  abandoned: number;
}

export interface Retention {
  start(): void;
  /** One pass now; `now` moves the clock (the days kept are counted back from it). */
  runOnce(now?: Date): Promise<RetentionPass>;
  stop(): Promise<void>;
}

/** The first UTC day kept: days before it are dropped. */
export function firstDayKept(now: Date, retentionDays: number): string {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(today - retentionDays * DAY_MS).toISOString().slice(0, 10);
}

/**
 * Retention: finished deliveries, attempts and events are kept `retentionDays` whole days,
 * then their day's partitions are dropped, never deleted row by row (a delete of a million
 * rows writes gigabytes of WAL and leaves a table to vacuum; a dropped partition is gone at
 * once). One process at a time does it, by a lease row any process may take once it has run
 * out; each pass also makes the coming days' partitions.
 */
export function createRetention(deps: {
  database: Database;
  logger: Logger;
  retentionDays: number;
  holder: string;
}): Retention {
  const { database, logger, retentionDays, holder } = deps;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;

  async function takeLease(): Promise<boolean> {
    const rows = await database.rows<{ holder: string }>(sql`
      insert into maintenance_leases (name, holder, until)
      values ('retention', ${holder}, now() + ${LEASE_MS}::int * interval '1 millisecond')
      on conflict (name) do update set holder = excluded.holder, until = excluded.until
       where maintenance_leases.until < now() or maintenance_leases.holder = excluded.holder
      returning holder`);
    return rows.length > 0;
  }

  async function releaseLease() {
    await database.rows(sql`delete from maintenance_leases where name = 'retention' and holder = ${holder}`);
  }

  async function runOnce(now = new Date()): Promise<RetentionPass> {
    if (!(await takeLease())) return { ran: false, dropped: [], abandoned: 0 };
    try {
      await ensurePartitions(database, now);
      const keep = firstDayKept(now, retentionDays);
      // A delivery still queued when its day goes (a webhook disabled for longer than the
      // retention) loses its event with it: it could not be sent any more.
      // So does one whose webhook was hard-deleted while it was being published (the queue has
      // no foreign key, whose check cost every publish a lookup and a lock per delivery).
      const [abandoned] = await database.rows<{ n: number }>(sql`
        with gone as (
          delete from delivery_queue q
           where q.id < hookline_day_uuid(${keep}::date)
              or not exists (select 1 from webhooks w where w.id = q.webhook_id)
          returning 1
        )
        select count(*)::int as n from gone`);
      const dropped: string[] = [];
      for (const partition of await listPartitions(database)) {
        if (partition.day >= keep) continue;
        const started = Date.now();
        await dropPartition(database, partition);
        dropped.push(partition.name);
        logger.info({ partition: partition.name, ms: Date.now() - started }, 'retention: dropped a day');
      }
      return { ran: true, dropped, abandoned: Number(abandoned?.n ?? 0) };
    } finally {
      await releaseLease().catch(() => {});
    }
  }

  function schedule(delay: number) {
    timer = setTimeout(() => {
      running = runOnce()
        .catch((error) => logger.warn({ err: error }, 'retention pass failed; trying again later'))
        .finally(() => schedule(INTERVAL_MS));
    }, delay);
    timer.unref();
  }

  return {
    start: () => schedule(5_000),
    runOnce,
    async stop() {
      clearTimeout(timer);
      await running?.catch(() => {});
    },
  };
}
