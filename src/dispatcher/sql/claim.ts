import { sql } from 'drizzle-orm';
import { type Database } from '../../db/client.js';
import { columnCount, decodeValues, jsonArray, selectColumns } from '../../db/columns.js';
import { deliveryQueue, events, webhooks } from '../../db/schema.js';
import type { Delivery } from '../../core/delivery.js';
import { deliveryFromRow } from '../../deliveries/repository.js';
import type { HooklineEvent } from '../../core/event.js';
import { eventFromRow } from '../../events/repository.js';
import { fromRow as webhookFromRow, type StoredWebhook } from '../../webhooks/repository.js';

export interface ClaimArgs {
  workerId: string;
  /** Requests this dispatcher may start now (a batch is one request). */
  requests: number;
  /** Requests each webhook may have in flight at once. */
  perWebhook: number;
  /** Webhooks with requests in flight here, and how many more each may start. */
  busy: Record<string, number>;
  /** Added to the webhook's timeout to make the lease. */
  leaseMarginMs: number;
  /** Requests each tenant named may start at most (a tenant not named: `requests`). */
  tenantRoom?: Record<string, number>;
}

/**
 * A FIFO webhook's delivery waits while an earlier one of the same webhook is still open and
 * not due itself (awaiting a retry, or in flight), and while any of its deliveries is in flight
 * under a live lease: one request at a time, in publish (id) order.
 */
const fifoTurn = (d: string) =>
  sql.raw(`not exists (
          select 1 from delivery_queue o
           where o.webhook_id = ${d}.webhook_id
             and ((o.status = 'IN_FLIGHT' and (o.id < ${d}.id or o.lease_until >= now()))
                  or (o.status <> 'IN_FLIGHT' and o.id < ${d}.id and o.next_attempt_at > now())))`);

const claimedColumns = sql.join(
  [
    selectColumns(deliveryQueue, 'c', 'd'),
    // The data with its stored text: most requests carry it as it is, so it is not
    // serialised again (see `decodeValues`).
    selectColumns(events, 'e', 'e', ['data']),
    selectColumns(webhooks, 'h', 'w'),
  ],
  sql`, `,
);

// Where each table's columns start in a claimed row (see `claimedColumns`); the webhook's `id`
// is its first, so a row that carries its webhook has a value there.
const EVENT_AT = columnCount(deliveryQueue);
const WEBHOOK_AT = EVENT_AT + columnCount(events);

/** A claimed delivery with what its request is made of. */
export interface ClaimedDelivery {
  delivery: Delivery;
  event: HooklineEvent;
  webhook: StoredWebhook;
}

/**
 * Claims due deliveries and marks them IN_FLIGHT under a lease, returning each with its event
 * and webhook (one round trip: the claim round is on the path of every delivery).
 *
 * Due means PENDING or AWAITING_RETRY with next_attempt_at passed, or IN_FLIGHT with an
 * expired lease (its process died: any dispatcher takes it over). The claim is read per
 * webhook: a skip scan finds the webhooks with waiting deliveries (one index probe each), and
 * for each one it may send to now (enabled, not at its concurrency here, its rate-limit turn
 * come) it reads just the rows its free slots can take, and no more than twice its share of
 * the round, oldest first (in id order and only when its turn has come for a FIFO webhook). So a webhook's backlog, however large or old,
 * never hides another webhook's newer deliveries, and a round costs the rows it claims, not
 * the size of the queue. Expired leases are read apart, at most 1000, oldest first.
 * Per webhook the rows are cut into requests of batch_size, a webhook gets at most its free
 * slots (one for a FIFO webhook; a rate-limited one what its pace allows), and the oldest
 * requests win. Rows are then locked with SKIP LOCKED, re-checking that they are still due,
 * so two dispatchers never claim the same row. The lease is the webhook's timeout plus a
 * margin, so a killed process's deliveries come back soon after its attempts would have
 * timed out anyway.
 *
 * A rate limit is paced like GCRA: `rate_next_at` is when the next request may start, pushed
 * on by 1/rate per request claimed. The webhook row is locked while the turn is taken, so two
 * dispatchers never spend the same turn (one that finds it locked sits the round out). Up to
 * rate/20 requests may start together, so any one-second window holds at most 5% (at least
 * one request) over the limit.
 *
 * A throttle (Stalwart's: a minimum interval between batches) is a window kept the same way:
 * while `throttle_next_at` is to come, the webhook's deliveries wait; once it has passed, one
 * request takes up to batch_size of them (everything that arrived meanwhile, oldest first) and
 * the next window opens throttleMs later. A quiet webhook's first event therefore goes at once:
 * the throttle bounds how often an endpoint is called, and delaying a lone event would only add
 * latency without saving a request.
 */
export async function claimDue(database: Database, args: ClaimArgs): Promise<ClaimedDelivery[]> {
  if (args.requests <= 0) return [];
  const saturated = Object.entries(args.busy)
    .filter(([, free]) => free <= 0)
    .map(([id]) => id);
  const rows = await database.preparedValues(sql`
    with recursive waiting(id) as (
      (select webhook_id from delivery_queue order by webhook_id limit 1)
      union all
      select (select d.webhook_id from delivery_queue d
               where d.webhook_id > w.id
               order by d.webhook_id limit 1)
        from waiting w
       where w.id is not null
    ),
    candidates as (
      -- Checked before any limit, so that the rows of a disabled, deleted or FAILED webhook
      -- can never crowd out everyone else's deliveries.
      select w.id, w.fifo, w.batch_size, w.rate_limit,
             coalesce((w.retry_policy ->> 'throttleMs')::int, 0) as throttle_ms
        from webhooks w
       where w.id in (select id from waiting)
         and w.enabled and not w.deleted and w.status <> 'FAILED'
         and w.id not in (select jsonb_array_elements_text(${JSON.stringify(saturated)}::jsonb)::uuid)
    ),
    paceable as (
      -- A paced webhook whose rate-limit turn has come or whose throttle window is open, locked
      -- so that its turn is taken once: the flags are read from the row as locked (a concurrent
      -- claim's update is re-checked), and a row another claim holds sits this round out.
      select w.id,
             w.rate_next_at is null or w.rate_next_at <= now() as rate_turn,
             w.throttle_next_at is null or w.throttle_next_at <= now() as window_open
        from webhooks w
        join candidates c on c.id = w.id
       where (c.rate_limit is not null and (w.rate_next_at is null or w.rate_next_at <= now()))
          or (c.throttle_ms > 0 and (w.throttle_next_at is null or w.throttle_next_at <= now()))
         -- NO KEY UPDATE, as for every lock taken here: FOR UPDATE would also conflict with the
         -- KEY SHARE that the foreign key checks of concurrent publishes take.
         for no key update of w skip locked
    ),
    limits as (
      select c.id, c.fifo, c.batch_size,
             least(
               coalesce(b.free::int, ${args.perWebhook}),
               case when c.fifo then 1 else ${args.perWebhook} end,
               case when c.rate_limit is null then ${args.perWebhook}
                    when p.rate_turn is not true then 0
                    else greatest(1, c.rate_limit / 20) end,
               -- A throttled webhook: one request (up to batch_size events) per window.
               case when c.throttle_ms = 0 then ${args.perWebhook}
                    when p.window_open is not true then 0
                    else 1 end
             ) as free
        from candidates c
        left join paceable p on p.id = c.id
        left join jsonb_each_text(${JSON.stringify(args.busy)}::jsonb) as b(id, free) on b.id::uuid = c.id
    ),
    reads as (
      -- How many requests of each webhook are read: its free slots, but no more than twice its
      -- share of the requests this round may start (and at least 16). Read to its free slots,
      -- 50 webhooks with a backlog each gave 6,112 rows to rank for 251 requests (70 ms a
      -- claim). What a webhook could not take for that is read by the next round, which
      -- follows at once (a round that claimed something is followed by another).
      select l.id, least(l.free, greatest(16, ceil(2.0 * ${args.requests} / count(*) over ())::int)) as n
        from limits l
       where l.free > 0
    ),
    due as (
      -- Due: waiting with its time come, or in flight under a lease that has run out (its
      -- process died: any dispatcher takes it over). Neither status nor lease is indexed, so a
      -- claim updates the row in place; the few rows in flight are skipped as the index is read.
      select q.tenant_id, q.id, l.id as webhook_id, q.due_at
        from limits l
        join reads r on r.id = l.id
        cross join lateral (
          select d.tenant_id, d.id, d.next_attempt_at as due_at
            from delivery_queue d
           where d.webhook_id = l.id and d.next_attempt_at <= now()
             and (d.status <> 'IN_FLIGHT' or d.lease_until < now())
           order by d.next_attempt_at, d.id
           limit r.n * l.batch_size
        ) q
       where not l.fifo
      union all
      select q.tenant_id, q.id, l.id, q.due_at
        from limits l
        join reads r on r.id = l.id
        cross join lateral (
          select d.tenant_id, d.id, d.next_attempt_at as due_at
            from delivery_queue d
           where d.webhook_id = l.id and d.next_attempt_at <= now()
             and (d.status <> 'IN_FLIGHT' or d.lease_until < now()) and ${fifoTurn('d')}
           order by d.id
           limit r.n * l.batch_size
        ) q
       where l.fifo
    ),
    ranked as (
      select due.tenant_id, due.id, due.webhook_id, due.due_at, l.free,
             (row_number() over (
                partition by due.webhook_id
                order by case when l.fifo then null else due.due_at end, due.id
              ) - 1) / l.batch_size as slot
        from due
        join limits l on l.id = due.webhook_id
    ),
    eligible as (
      select tenant_id, id, webhook_id, slot, min(due_at) over (partition by webhook_id, slot) as slot_due
        from ranked
       where slot < free
    ),
    ordered as (
      -- A request is one webhook's slot. Each tenant gets at most its room (so one tenant's
      -- backlog cannot take every slot), then the oldest requests win.
      select e.*,
             dense_rank() over (partition by e.tenant_id order by slot_due, webhook_id, slot) as in_tenant
        from eligible e
    ),
    chosen as (
      select tenant_id, id, webhook_id, slot
        from (select o.*, dense_rank() over (order by slot_due, webhook_id, slot) as n
                from ordered o
                left join jsonb_each_text(${JSON.stringify(args.tenantRoom ?? {})}::jsonb) as t(tenant_id, room)
                  on t.tenant_id = o.tenant_id
               where o.in_tenant <= coalesce(t.room::int, ${args.requests})) x
       where n <= ${args.requests}
    ),
    paced as (
      update webhooks w
         set rate_next_at = case when w.rate_limit is null then w.rate_next_at
                                 else greatest(coalesce(w.rate_next_at, now()), now())
                                      + (q.n::float8 / w.rate_limit) * interval '1 second' end,
             -- The window was open (so its time has passed): the next one opens throttleMs from
             -- now, by the clock (not the statement's start), as the request starts just after.
             throttle_next_at = case when l.throttle_ms = 0 then w.throttle_next_at
                                     else clock_timestamp() + l.throttle_ms * interval '1 millisecond' end
        from (select webhook_id, count(distinct slot) as n from chosen group by webhook_id) q
        join candidates l on l.id = q.webhook_id
       where w.id = q.webhook_id and (w.rate_limit is not null or l.throttle_ms > 0)
    ),
    locked as (
      -- By id alone, the primary key's first column. A join here was planned, in the generic
      -- plan of the prepared statement, as a scan of the whole queue; and the checks that the
      -- row is still due are wrapped in IS TRUE so that no index can serve them: the
      -- planner, not knowing how many ids the array holds, otherwise ANDed the ids' bitmap with
      -- one of every row due, read from the time index (the whole backlog).
      select d.id
        from delivery_queue d
       where d.id = any (array(select id from chosen))
         and (d.next_attempt_at <= now() and (d.status <> 'IN_FLIGHT' or d.lease_until < now())) is true
         for no key update of d skip locked
    ),
    claimed as (
      -- The webhook's timeout is read per row, not joined: with the webhook joined first, the
      -- rows were looked up as (webhook_id, any id) in the webhook's index, whose ids come
      -- third, so the scan read every entry of the webhook's backlog (25 ms a claim of 50 in
      -- a backlog of 20,000).
      update delivery_queue d
         set status = 'IN_FLIGHT',
             leased_by = ${args.workerId},
             lease_until = now() + (
               select (coalesce((w.config ->> 'timeoutMs')::int, 10000) + ${args.leaseMarginMs}) * interval '1 millisecond'
                 from webhooks w where w.id = d.webhook_id),
             updated_at = now()
       where d.id = any (array(select id from locked))
      returning d.*
    )
    -- What a request needs, read in the same round trip: each claimed row with its event, and
    -- its webhook on the first row of that webhook only (the rest carry nulls, not the same
    -- configuration again), each by its primary key (lateral with a limit, so planned per row
    -- whatever the statistics of a table that is still young say).
    select ${claimedColumns}
      from (select c.*, row_number() over (partition by c.webhook_id) as nth from claimed c) c
      cross join lateral (select * from events e where e.tenant_id = c.tenant_id and e.id = c.event_id limit 1) e
      left join lateral (select * from webhooks h where h.id = c.webhook_id and c.nth = 1 limit 1) h on true
  `);
  const hooks = new Map<string, StoredWebhook>();
  for (const row of rows) {
    if (row[WEBHOOK_AT] != null)
      hooks.set(row[WEBHOOK_AT] as string, webhookFromRow(decodeValues(webhooks, row, WEBHOOK_AT)));
  }
  return rows.map((row) => {
    const delivery = deliveryFromRow(decodeValues(deliveryQueue, row, 0));
    return {
      delivery,
      event: eventFromRow(decodeValues(events, row, EVENT_AT, ['data'])),
      webhook: hooks.get(delivery.webhookId) as StoredWebhook,
    };
  });
}

/**
 * When the dispatcher should look again: the earliest future retry, lease expiry or rate-limit
 * turn of a webhook it may send to. What is overdue already waits for a free slot, and the
 * request that frees one wakes the loop; a disabled webhook's rows must not make it spin.
 */
export async function nextDueAt(database: Database): Promise<Date | null> {
  // A lease that runs out is not waited for here: the poll finds it (a lease outlives the
  // webhook's timeout by a margin of seconds, so a poll's delay is small beside it).
  const [row] = await database.prepared<{ at: string | Date | null }>(sql`
    with sendable as (
      select id, rate_limit, rate_next_at, throttle_next_at,
             coalesce((retry_policy ->> 'throttleMs')::int, 0) as throttle_ms
        from webhooks where enabled and not deleted and status <> 'FAILED'
    )
    -- The minimum walks its time index up from now, checking webhooks as a filter (not an
    -- index condition, which would make the planner probe every webhook's deliveries).
    select least(
      (select min(next_attempt_at) from delivery_queue
        where next_attempt_at > now() and status <> 'IN_FLIGHT'
          and (webhook_id = any (array(select id from sendable))) is true),
      (select min(s.rate_next_at) from sendable s
        where s.rate_limit is not null and s.rate_next_at > now()
          and exists (select 1 from delivery_queue d
                       where d.webhook_id = s.id and d.status <> 'IN_FLIGHT' and d.next_attempt_at <= now())),
      (select min(s.throttle_next_at) from sendable s
        where s.throttle_ms > 0 and s.throttle_next_at > now()
          and exists (select 1 from delivery_queue d
                       where d.webhook_id = s.id and d.status <> 'IN_FLIGHT' and d.next_attempt_at <= now()))
    ) as at
  `);
  return row?.at ? new Date(row.at) : null;
}

/**
 * Claimed deliveries this dispatcher will not send go back to the queue, due again at once and
 * in their old order: on shutdown, all it holds; otherwise the ones named (held for a slot
 * when their webhook changed, or with too little lease left).
 */
export async function releaseClaims(
  database: Database,
  workerId: string,
  ids?: { tenantId: string; id: string }[],
): Promise<number> {
  const named = ids
    ? sql`and id = any (${jsonArray(
        ids.map((d) => d.id),
        'uuid',
      )})`
    : sql``;
  const rows = await database.rows<{ id: string }>(sql`
    update delivery_queue
       set status = case when attempt_count = 0 then 'PENDING' else 'AWAITING_RETRY' end,
           lease_until = null, leased_by = null, next_attempt_at = least(next_attempt_at, now()),
           updated_at = now()
     where leased_by = ${workerId} and status = 'IN_FLIGHT' ${named}
    returning id
  `);
  return rows.length;
}

/** What /metrics reports of the queue: deliveries due now, the oldest one's wait, and those in flight. */
export async function queueStats(
  database: Database,
): Promise<{ due: number; oldestDueSeconds: number; inFlight: number }> {
  const [row] = await database.rows<{
    due: number | string;
    oldest: number | string | null;
    in_flight: number | string;
  }>(sql`
    select
      (select count(*) from delivery_queue
        where status <> 'IN_FLIGHT' and next_attempt_at <= now()) as due,
      (select extract(epoch from now() - min(next_attempt_at)) from delivery_queue
        where status <> 'IN_FLIGHT' and next_attempt_at <= now()) as oldest,
      (select count(*) from delivery_queue where status = 'IN_FLIGHT') as in_flight
  `);
  return {
    due: Number(row?.due ?? 0),
    oldestDueSeconds: Number(row?.oldest ?? 0),
    inFlight: Number(row?.in_flight ?? 0),
  };
}
