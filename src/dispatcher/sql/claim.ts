import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';

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
}

/**
 * A FIFO webhook's delivery waits while an earlier one of the same webhook is still open and
 * not due itself (awaiting a retry, or in flight), and while any of its deliveries is in flight
 * under a live lease: one request at a time, in publish (id) order.
 */
const fifoTurn = (d: string) =>
  sql.raw(`not exists (
          select 1 from deliveries o
           where o.webhook_id = ${d}.webhook_id
             and o.status in ('PENDING', 'AWAITING_RETRY', 'IN_FLIGHT')
             and ((o.status = 'IN_FLIGHT' and (o.id < ${d}.id or o.lease_until >= now()))
                  or (o.status <> 'IN_FLIGHT' and o.id < ${d}.id and o.next_attempt_at > now())))`);

/**
 * Claims due deliveries and marks them IN_FLIGHT under a lease, returning their ids.
 *
 * Due means PENDING or AWAITING_RETRY with next_attempt_at passed, or IN_FLIGHT with an
 * expired lease (its process died: any dispatcher takes it over). The two kinds are read
 * apart so each uses its partial index, at most 1000 of each, oldest first, leaving out
 * webhooks already at their concurrency here and FIFO deliveries whose turn has not come.
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
 */
export async function claimDue(database: Database, args: ClaimArgs): Promise<string[]> {
  if (args.requests <= 0) return [];
  const saturated = Object.entries(args.busy)
    .filter(([, free]) => free <= 0)
    .map(([id]) => id);
  const rows = await database.rows<{ id: string }>(sql`
    with saturated as (
      select jsonb_array_elements_text(${JSON.stringify(saturated)}::jsonb)::uuid as id
    ),
    sendable as (
      -- Webhooks that may be sent to: checked before the limits below, so that a backlog of a
      -- disabled, deleted or FAILED webhook can never crowd out everyone else's deliveries.
      select w.id, w.fifo from webhooks w
       where w.enabled and not w.deleted and w.status <> 'FAILED'
         and w.id not in (select id from saturated)
    ),
    due as (
      (select d.id, d.webhook_id, d.next_attempt_at as due_at
         from deliveries d
        where d.status in ('PENDING', 'AWAITING_RETRY') and d.next_attempt_at <= now()
          and d.webhook_id in (select id from sendable)
          and (d.webhook_id not in (select id from sendable where fifo) or ${fifoTurn('d')})
        order by d.next_attempt_at
        limit 1000)
      union all
      (select d.id, d.webhook_id, d.lease_until as due_at
         from deliveries d
        where d.status = 'IN_FLIGHT' and d.lease_until < now()
          and d.webhook_id in (select id from sendable)
          and (d.webhook_id not in (select id from sendable where fifo) or ${fifoTurn('d')})
        order by d.lease_until
        limit 1000)
    ),
    paceable as (
      select w.id, w.rate_limit
        from webhooks w
       where w.rate_limit is not null and w.id in (select webhook_id from due)
         and (w.rate_next_at is null or w.rate_next_at <= now())
         for update skip locked
    ),
    ranked as (
      select due.id, due.webhook_id, due.due_at,
             (row_number() over (
                partition by due.webhook_id
                order by case when w.fifo then null else due.due_at end, due.id
              ) - 1) / w.batch_size as slot,
             least(
               coalesce(b.free::int, ${args.perWebhook}),
               case when w.fifo then 1 else ${args.perWebhook} end,
               case when w.rate_limit is null then ${args.perWebhook}
                    when p.id is null then 0
                    else greatest(1, w.rate_limit / 20) end
             ) as free
        from due
        join webhooks w on w.id = due.webhook_id
        left join paceable p on p.id = due.webhook_id
        left join jsonb_each_text(${JSON.stringify(args.busy)}::jsonb) as b(id, free) on b.id::uuid = due.webhook_id
       where w.enabled and not w.deleted and w.status <> 'FAILED'
    ),
    requests as (
      select webhook_id, slot, min(due_at) as due_at
        from ranked
       where slot < free
       group by webhook_id, slot
       order by min(due_at)
       limit ${args.requests}
    ),
    paced as (
      update webhooks w
         set rate_next_at = greatest(coalesce(w.rate_next_at, now()), now())
                            + (q.n::float8 / w.rate_limit) * interval '1 second'
        from (select webhook_id, count(*) as n from requests group by webhook_id) q
       where w.id = q.webhook_id and w.rate_limit is not null
    ),
    locked as (
      select d.id
        from deliveries d
       where d.id in (select r.id from ranked r join requests q using (webhook_id, slot))
         and ((d.status in ('PENDING', 'AWAITING_RETRY') and d.next_attempt_at <= now())
              or (d.status = 'IN_FLIGHT' and d.lease_until < now()))
         for update of d skip locked
    )
    update deliveries d
       set status = 'IN_FLIGHT',
           leased_by = ${args.workerId},
           lease_until = now() + (coalesce((w.config ->> 'timeoutMs')::int, 10000) + ${args.leaseMarginMs}) * interval '1 millisecond',
           updated_at = now()
      from locked, webhooks w
     where d.id = locked.id and w.id = d.webhook_id
    returning d.id
  `);
  return rows.map((r) => r.id);
}

/**
 * When the dispatcher should look again: the earliest future retry, lease expiry or rate-limit
 * turn of a webhook it may send to. What is overdue already waits for a free slot, and the
 * request that frees one wakes the loop; a disabled webhook's rows must not make it spin.
 */
export async function nextDueAt(database: Database): Promise<Date | null> {
  const [row] = await database.rows<{ at: string | Date | null }>(sql`
    with sendable as (
      select id, rate_limit, rate_next_at from webhooks where enabled and not deleted and status <> 'FAILED'
    )
    select least(
      (select min(next_attempt_at) from deliveries
        where status in ('PENDING', 'AWAITING_RETRY') and next_attempt_at > now()
          and webhook_id in (select id from sendable)),
      (select min(lease_until) from deliveries
        where status = 'IN_FLIGHT' and lease_until > now() and webhook_id in (select id from sendable)),
      (select min(s.rate_next_at) from sendable s
        where s.rate_limit is not null and s.rate_next_at > now()
          and exists (select 1 from deliveries d
                       where d.webhook_id = s.id and d.status in ('PENDING', 'AWAITING_RETRY')
                         and d.next_attempt_at <= now()))
    ) as at
  `);
  return row?.at ? new Date(row.at) : null;
}

/** On shutdown: what this dispatcher claimed but did not finish goes back to the queue, due now. */
export async function releaseClaims(database: Database, workerId: string): Promise<number> {
  const rows = await database.rows<{ id: string }>(sql`
    update deliveries
       set status = case when attempt_count = 0 then 'PENDING' else 'AWAITING_RETRY' end,
           lease_until = null, leased_by = null, next_attempt_at = now(), updated_at = now()
     where leased_by = ${workerId} and status = 'IN_FLIGHT'
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
      (select count(*) from deliveries
        where status in ('PENDING', 'AWAITING_RETRY') and next_attempt_at <= now()) as due,
      (select extract(epoch from now() - min(next_attempt_at)) from deliveries
        where status in ('PENDING', 'AWAITING_RETRY') and next_attempt_at <= now()) as oldest,
      (select count(*) from deliveries where status = 'IN_FLIGHT') as in_flight
  `);
  return {
    due: Number(row?.due ?? 0),
    oldestDueSeconds: Number(row?.oldest ?? 0),
    inFlight: Number(row?.in_flight ?? 0),
  };
}
