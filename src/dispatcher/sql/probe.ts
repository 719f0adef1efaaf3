import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { rowsOf } from '../../db/client.js';
import { deliveryQueue as queue, events } from '../../db/schema.js';
import { deliveryFromRow } from '../../deliveries/repository.js';
import { eventFromRow } from '../../events/repository.js';
import { findWebhooksByIds } from '../../webhooks/repository.js';
import type { ClaimedDelivery } from './claim.js';

/** Webhooks probed in one round at most: a probe is one request each. */
const PROBES_PER_ROUND = 10;

/**
 * The circuit breaker's half-open step, in the caller's transaction: takes the auto-disabled
 * webhooks whose probe is due (the probe state in failure_details, which only the health rule
 * sets), locking their rows with SKIP LOCKED so that two processes never probe one webhook at
 * once, and pushes each one's next probe on by its doubled backoff (up to `maxSeconds`, and
 * never less than the probe's lease, so that probes never overlap) before anything is sent: a
 * probe that fails, or a process that dies while probing, leaves the webhook waiting for the
 * later time. For each it claims the oldest queued delivery IN_FLIGHT
 * under `workerId`'s lease, as the claim round would; a webhook with nothing queued is just
 * pushed on (nothing to probe with).
 */
export async function claimProbes(
  tx: Db,
  args: { workerId: string; maxSeconds: number; leaseMarginMs: number },
): Promise<ClaimedDelivery[]> {
  const due = await rowsOf<{ id: string }>(
    tx,
    sql`
    with due as (
      select id, coalesce((failure_details -> 'probe' ->> 'backoffSeconds')::int, 1) as backoff
        from webhooks
       where status = 'DISABLED' and not enabled and not deleted
         and (failure_details -> 'probe' ->> 'at')::timestamptz <= now()
       order by id
       limit ${PROBES_PER_ROUND}
         for no key update skip locked
    )
    update webhooks w
       set failure_details = jsonb_set(
             w.failure_details, '{probe}',
             jsonb_build_object(
               -- Never before this probe's lease ends: one probe of a webhook at a time.
               'at', to_jsonb(now() + greatest(
                 least(due.backoff * 2, ${args.maxSeconds}) * interval '1 second',
                 (coalesce((w.config ->> 'timeoutMs')::int, 10000) + ${args.leaseMarginMs}) * interval '1 millisecond')),
               'backoffSeconds', least(due.backoff * 2, ${args.maxSeconds})))
      from due
     where w.id = due.id
    returning w.id
  `,
  );
  if (!due.length) return [];
  const hooks = await findWebhooksByIds(
    tx,
    due.map((d) => d.id),
  );
  const claimed: ClaimedDelivery[] = [];
  for (const webhook of hooks) {
    const [oldest] = await tx
      .select({ tenantId: queue.tenantId, id: queue.id })
      .from(queue)
      .where(
        and(eq(queue.webhookId, webhook.webhook.id), inArray(queue.status, ['PENDING', 'AWAITING_RETRY'])),
      )
      .orderBy(asc(queue.id))
      .limit(1);
    if (!oldest) continue;
    const leaseMs = webhook.webhook.config.timeoutMs + args.leaseMarginMs;
    const [row] = await tx
      .update(queue)
      .set({
        status: 'IN_FLIGHT',
        leasedBy: args.workerId,
        leaseUntil: sql`now() + ${leaseMs} * interval '1 millisecond'`,
        updatedAt: sql`now()`,
      })
      .where(
        and(
          eq(queue.tenantId, oldest.tenantId),
          eq(queue.id, oldest.id),
          inArray(queue.status, ['PENDING', 'AWAITING_RETRY']),
        ),
      )
      .returning();
    if (!row) continue;
    const [event] = await tx
      .select()
      .from(events)
      .where(and(eq(events.tenantId, row.tenantId), eq(events.id, row.eventId)));
    if (event) claimed.push({ delivery: deliveryFromRow(row), event: eventFromRow(event), webhook });
  }
  return claimed;
}
