import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { deliveries, webhooks } from '../../db/schema.js';
import type { DeliveryStatus } from '../../deliveries/model.js';
import { failedShareSince } from '../../deliveries/repository.js';
import { failedLongEnough, type HealthPolicy, windowStart } from '../health.js';
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

export interface HealthUpdate {
  webhookId: string;
  status?: WebhookStatus;
  /** The attempt failed: these details replace the last ones. */
  failure?: Omit<FailureDetails, 'failingSince'>;
  now: Date;
  policy: HealthPolicy;
}

/**
 * Moves a webhook's status and failure details after an attempt, and keeps the run of
 * failures the health rule measures (`failingSince`). A webhook disabled in the meantime stays
 * DISABLED. Returns the new status when it changed, and whether the health rule now says the
 * webhook should be disabled. The row stays locked until the caller's transaction ends.
 */
export async function updateWebhookHealth(
  tx: Db,
  args: HealthUpdate,
): Promise<{ status: WebhookStatus | null; disable: boolean }> {
  const unchanged = { status: null, disable: false };
  const [before] = await tx
    .select({ status: webhooks.status, failureDetails: webhooks.failureDetails })
    .from(webhooks)
    .where(eq(webhooks.id, args.webhookId))
    .for('update');
  if (!before || before.status === 'DISABLED') return unchanged;
  // FAILED (410 Gone) is final until a user changes the webhook: a success that finishes
  // after it does not bring the webhook back.
  if (before.status === 'FAILED' && args.status !== 'FAILED') return unchanged;
  const { policy, now } = args;
  const previous = before.failureDetails;
  let failureDetails: FailureDetails | null = previous;
  let disable = false;
  if (args.failure) {
    const failingSince = previous?.failingSince ?? now.toISOString();
    failureDetails = { ...args.failure, failingSince };
    disable =
      failedLongEnough(policy, failingSince, now) &&
      (policy.disableErrorRate >= 1 ||
        (await failedShareSince(tx, args.webhookId, windowStart(policy, now))) >= policy.disableErrorRate);
  } else if (previous) {
    // A success ends the run of failures unless failures still make up the failing share.
    const stillFailing =
      previous.failingSince != null &&
      policy.disableErrorRate < 1 &&
      (await failedShareSince(tx, args.webhookId, windowStart(policy, now))) >= policy.disableErrorRate;
    failureDetails = {
      ...previous,
      nextAttempt: null,
      failingSince: stillFailing ? (previous.failingSince ?? null) : null,
    };
  }
  const set: Partial<typeof webhooks.$inferInsert> = { failureDetails };
  if (args.status) set.status = args.status;
  await tx.update(webhooks).set(set).where(eq(webhooks.id, args.webhookId));
  return { status: args.status && before.status !== args.status ? args.status : null, disable };
}
