import type { DeliveryStatus, ErrorKind } from './delivery.js';
import type { RetryPolicy, WebhookStatus } from './webhook.js';

/** What one HTTP attempt came to. */
export type AttemptResult =
  | { ok: true; statusCode: number }
  | { ok: false; kind: ErrorKind; statusCode?: number; retryAfterMs?: number; message: string };

export interface Outcome {
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
  /** The webhook's new status, when this attempt should change it. */
  webhookStatus?: WebhookStatus;
}

const MAX_RETRY_AFTER_MS = 24 * 3600 * 1000;

/** 408, 429 and 5xx say "try again later"; so do timeouts and network and TLS failures. */
export function isRetryable(result: AttemptResult): boolean {
  if (result.ok) return false;
  // A refused address will not become acceptable by waiting, nor a body too large smaller:
  // the same event renders the same body again.
  if (result.kind === 'TARGET_NOT_ALLOWED' || result.kind === 'PAYLOAD_TOO_LARGE') return false;
  if (result.kind !== 'HTTP_STATUS') return true;
  const code = result.statusCode ?? 0;
  return code === 408 || code === 429 || code >= 500;
}

/**
 * The delivery's next state after an attempt, as a pure function of the attempt and `now`.
 *
 * With the default schedule [60, 300, 900, 3600, 14400, 43200] a delivery that keeps failing
 * is tried at 0 s, then 1 min, 5 min, 15 min, 1 h, 4 h and 12 h after each failure: 7 attempts,
 * then FAILED and the webhook RETRY_LIMIT_REACHED. A `Retry-After` longer than the step wins
 * (capped at 24 h). `discardAfterSeconds` drops a delivery whose next try would fall past that
 * age; `lossy` drops it at the first failure instead of retrying.
 */
export function decideOutcome(args: {
  result: AttemptResult;
  /** Attempts counted in the current schedule, this one included. */
  attemptInSchedule: number;
  createdAt: Date;
  policy: RetryPolicy;
  now: Date;
}): Outcome {
  const { result, attemptInSchedule, createdAt, policy, now } = args;
  if (result.ok) return { status: 'SUCCEEDED', nextAttemptAt: null, webhookStatus: 'ACTIVE' };
  if (result.kind === 'HTTP_STATUS' && result.statusCode === 410) {
    return { status: 'FAILED', nextAttemptAt: null, webhookStatus: 'FAILED' };
  }
  if (!isRetryable(result)) return { status: 'FAILED', nextAttemptAt: null };
  if (policy.lossy) return { status: 'DISCARDED', nextAttemptAt: null };
  const step = policy.scheduleSeconds[attemptInSchedule - 1];
  if (step === undefined)
    return { status: 'FAILED', nextAttemptAt: null, webhookStatus: 'RETRY_LIMIT_REACHED' };
  const delayMs = Math.max(step * 1000, Math.min(result.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
  const next = new Date(now.getTime() + delayMs);
  if (
    policy.discardAfterSeconds !== null &&
    next.getTime() > createdAt.getTime() + policy.discardAfterSeconds * 1000
  ) {
    return { status: 'DISCARDED', nextAttemptAt: null };
  }
  return { status: 'AWAITING_RETRY', nextAttemptAt: next, webhookStatus: 'AWAITING_RETRY' };
}

/** `Retry-After` as milliseconds: delay-seconds or an HTTP date (RFC 9110 section 10.2.3). */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}
