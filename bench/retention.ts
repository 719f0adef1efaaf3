// Retention's cost: one day's partition of the history holding 1,000,000 finished deliveries
// (with as many attempts' and events' rows of that day) is dropped the way the upkeep pass
// drops it (src/db/partitions.ts: DETACH … CONCURRENTLY, then DROP), while a client publishes
// one event at a time to a Hookline process that delivers them. Reported: the drop's duration,
// and the publish-to-receipt latency of the events published meanwhile against those before.
import postgres from 'postgres';
import { openDatabase } from '../src/db/client.js';
import { dropPartition, listPartitions } from '../src/db/partitions.js';
import { freshDatabase, gql, type ReceiverProcess, round, SECRET, startHookline, summary } from './lib.js';

export interface RetentionDrop {
  rows: number;
  dropMs: number;
  /** Publish-to-receipt latency, ms: before the drop, and of the events published during it. */
  before: { p50: number; p99: number; max: number };
  during: { p50: number; p99: number; max: number; count: number };
  /** Publishes that failed (none expected). */
  errors: string[];
}

const DAY = '2026-01-15';

export async function retentionDrop(
  adminUrl: string,
  receiver: ReceiverProcess,
  rows: number,
): Promise<RetentionDrop> {
  const database = await freshDatabase(adminUrl);
  // Its own upkeep must not drop the day first (it is older than the default 30 days).
  const hookline = await startHookline(database.url, { HOOKLINE_RETENTION_DAYS: '3650' });
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  const db = await openDatabase({ kind: 'postgres', url: database.url });
  try {
    await gql(hookline.url, `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`, {
      input: {
        name: 'retention',
        webhookType: 'GENERIC',
        eventFilters: [{ eventTypes: ['order.paid'] }],
        config: { endpoint: `${receiver.url}/retention`, secretKey: SECRET },
      },
    });
    // An old day, filled as a busy hub would have left it (ids of that day, finished).
    await sql`select hookline_ensure_partitions(${DAY}::date, ${DAY}::date)`;
    const [{ webhook }] = (await sql`select id as webhook from webhooks limit 1`) as unknown as [
      { webhook: string },
    ];
    const id = (
      table: string,
    ) => `(lpad(to_hex((extract(epoch from '${DAY}'::timestamp) * 1000)::bigint + g / 12), 12, '0')
         || '7${table}00' || '8000' || lpad(to_hex(g), 12, '0'))::uuid`;
    await sql.unsafe(`
      insert into delivery_history (id, tenant_id, event_id, webhook_id, status, attempt_count, last_status_code,
                                    created_at, updated_at, completed_at)
      select ${id('1')}, 'default', ${id('2')}, '${webhook}', 'SUCCEEDED', 1, 200, now(), now(), now()
        from generate_series(1, ${rows}) g`);
    await sql.unsafe('analyze delivery_history');

    await receiver.reset();
    const latencies = { before: [] as number[], during: [] as number[] };
    const state: { phase: 'before' | 'during' | 'done' } = { phase: 'before' };
    let n = 0;
    const errors: string[] = [];
    const publishing = (async () => {
      while (state.phase !== 'done') {
        const i = n++;
        const sent = Date.now();
        const which = state.phase;
        try {
          await gql(
            hookline.url,
            `mutation($input: PublishEventInput!) { publishEvent(input: $input) { id } }`,
            {
              input: { eventType: 'order.paid', entityId: `r-${i}` },
            },
          );
        } catch (error) {
          // Counted, not fatal: a refused publish is a finding of the run.
          errors.push(`${which}: ${(error as Error).message} (${String((error as Error).cause)})`);
          n--;
          continue;
        }
        await receiver.waitFor(i + 1, 30_000);
        latencies[which as 'before' | 'during'].push(Date.now() - sent);
      }
    })();
    publishing.catch(() => {});
    await new Promise((r) => setTimeout(r, 3000));
    const partition = (await listPartitions(db)).find(
      (p) => p.name === `delivery_history_${DAY.replaceAll('-', '')}`,
    );
    if (!partition) throw new Error('no partition to drop');
    state.phase = 'during';
    const started = performance.now();
    try {
      await dropPartition(db, partition);
    } finally {
      // The publishing loop ends however the drop went, so that its error is the one reported.
      state.phase = 'done';
      await publishing.catch(() => {});
    }
    const dropMs = performance.now() - started;
    const stats = (values: number[]) => {
      const s = summary([...values].sort((a, b) => a - b));
      return { p50: s.p50, p99: s.p99, max: s.max };
    };
    return {
      rows,
      dropMs: round(dropMs, 0),
      before: stats(latencies.before),
      during: { ...stats(latencies.during), count: latencies.during.length },
      errors,
    };
  } finally {
    await db.close();
    await sql.end();
    await hookline.stop();
    await database.drop();
  }
}
