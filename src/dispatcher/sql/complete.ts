import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { deliveries, webhooks } from '../../db/schema.js';
import type { DeliveryStatus } from '../../deliveries/model.js';
import type { FailureDetails, WebhookStatus } from '../../webhooks/model.js';

/**
 * Records where an attempt left a delivery. Only the dispatcher holding the lease writes, so a
 * process that lost its lease (it was too slow, and another one took the delivery over) can
 * record its attempt but cannot move the delivery backwards.
 */
export async function finishDeliveries(
  tx: Db,
  args: {
    ids: string[];
    workerId: string;
    status: DeliveryStatus;
    nextAttemptAt: Date | null;
    countsAsAttempt: boolean;
    statusCode: number | null;
    error: string | null;
    now: Date;
  },
): Promise<void> {
  if (!args.ids.length) return;
  const finished = args.status === 'SUCCEEDED' || args.status === 'FAILED' || args.status === 'DISCARDED';
  await tx
    .update(deliveries)
    .set({
      status: args.status,
      attemptCount: args.countsAsAttempt ? sql`${deliveries.attemptCount} + 1` : deliveries.attemptCount,
      nextAttemptAt: args.nextAttemptAt,
      leaseUntil: null,
      leasedBy: null,
      lastStatusCode: args.statusCode,
      lastError: args.error,
      completedAt: finished ? args.now : null,
      updatedAt: args.now,
    })
    .where(
      and(
        inArray(deliveries.id, args.ids),
        eq(deliveries.leasedBy, args.workerId),
        eq(deliveries.status, 'IN_FLIGHT'),
      ),
    );
}

/**
 * Moves a webhook's status and failure details after an attempt. A webhook disabled in the
 * meantime stays DISABLED. Returns whether the status changed.
 */
export async function updateWebhookHealth(
  tx: Db,
  args: { webhookId: string; status?: WebhookStatus; failure?: FailureDetails; clearNextAttempt?: boolean },
): Promise<WebhookStatus | null> {
  const set: Partial<typeof webhooks.$inferInsert> = {};
  if (args.status) set.status = args.status;
  if (args.failure) set.failureDetails = args.failure;
  else if (args.clearNextAttempt) {
    set.failureDetails = sql`case when ${webhooks.failureDetails} is null then null
      else jsonb_set(${webhooks.failureDetails}, '{nextAttempt}', 'null') end` as never;
  }
  if (!Object.keys(set).length) return null;
  const [before] = await tx
    .select({ status: webhooks.status })
    .from(webhooks)
    .where(eq(webhooks.id, args.webhookId))
    .for('update');
  if (!before || before.status === 'DISABLED') return null;
  // FAILED (410 Gone) is final until a user changes the webhook: a success that finishes
  // after it does not bring the webhook back.
  if (before.status === 'FAILED' && args.status !== 'FAILED') return null;
  await tx.update(webhooks).set(set).where(eq(webhooks.id, args.webhookId));
  return args.status && before.status !== args.status ? args.status : null;
}
