import type { DeliveryAttempt, DeliveryStatus } from './delivery.js';
import { DELIVERY_FAILING, type HooklineEvent, type NewEvent } from './event.js';
import { encodeGlobalId } from '../ids.js';
import { fullyQualifiedName, type Webhook } from './webhook.js';

/**
 * Endpoint health, after Svix: a webhook whose attempts keep failing for a whole window is
 * turned off, so that a dead endpoint stops costing retries, and its owner hears of it.
 */
export interface HealthPolicy {
  /** How long a webhook must have been failing before it is disabled; 0 never disables. */
  disableAfterSeconds: number;
  /**
   * The share of failed attempts (0-1] that counts as failing. At 1 (the default) any success
   * ends the run of failures; below 1 a run ends only when the share over the window drops
   * under it, so a flapping endpoint is disabled too.
   */
  disableErrorRate: number;
  /** A delivery that has failed this many attempts (or ends FAILED sooner) raises `delivery.failing`. */
  failingAfterAttempts: number;
  /**
   * An auto-disabled webhook is probed (one of its queued deliveries sent) this long after it
   * was disabled, then after twice as long each time the probe fails, up to probeMaxSeconds.
   */
  probeAfterSeconds: number;
  probeMaxSeconds: number;
}

export const defaultHealthPolicy: HealthPolicy = {
  disableAfterSeconds: 5 * 24 * 3600,
  disableErrorRate: 1,
  failingAfterAttempts: 3,
  probeAfterSeconds: 60,
  probeMaxSeconds: 3600,
};

/** The start of the window over which the error rate is measured. */
export const windowStart = (policy: HealthPolicy, now: Date) =>
  new Date(now.getTime() - policy.disableAfterSeconds * 1000);

/** Whether a run of failures that began at `failingSince` has lasted the whole window. */
export const failedLongEnough = (policy: HealthPolicy, failingSince: string | null | undefined, now: Date) =>
  policy.disableAfterSeconds > 0 &&
  Boolean(failingSince) &&
  Date.parse(failingSince as string) <= windowStart(policy, now).getTime();

/** Whether this attempt is the one to report as `delivery.failing` (once per delivery). */
export function reportsFailing(attempt: DeliveryAttempt, policy: HealthPolicy): boolean {
  const failed: DeliveryStatus[] = ['AWAITING_RETRY', 'FAILED'];
  if (!failed.includes(attempt.status)) return false;
  return (
    attempt.attemptNumber === policy.failingAfterAttempts ||
    (attempt.status === 'FAILED' && attempt.attemptNumber < policy.failingAfterAttempts)
  );
}

/** The `delivery.failing` event: which webhook, which delivery, and how its last attempt went. */
export function deliveryFailingEvent(
  webhook: Webhook,
  event: HooklineEvent,
  attempt: DeliveryAttempt,
  nextAttemptAt: Date | null,
): NewEvent {
  const webhookId = encodeGlobalId('Webhook', webhook.id);
  return {
    eventType: DELIVERY_FAILING,
    entityType: 'delivery',
    entityId: encodeGlobalId('Delivery', attempt.deliveryId),
    entityFqn: fullyQualifiedName(webhook.name),
    cluster: null,
    namespace: null,
    actor: { name: 'hookline', roles: [] },
    level: 'WARN',
    changedFields: [],
    data: {
      webhook: { id: webhookId, name: webhook.name, webhookType: webhook.webhookType },
      // So that a USER's personal webhook hears of its owner's failing webhooks.
      owner: webhook.owner,
      delivery: {
        id: encodeGlobalId('Delivery', attempt.deliveryId),
        status: attempt.status,
        attempts: attempt.attemptNumber,
        nextAttemptAt: nextAttemptAt?.toISOString() ?? null,
      },
      event: { id: encodeGlobalId('Event', event.id), eventType: event.eventType },
      lastStatusCode: attempt.responseStatus,
      lastErrorKind: attempt.errorKind,
      lastError: attempt.errorMessage,
    },
    occurredAt: attempt.startedAt,
    idempotencyKey: null,
  };
}
