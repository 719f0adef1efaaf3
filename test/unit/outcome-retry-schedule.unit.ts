import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AttemptResult, decideOutcome, isRetryable, parseRetryAfter } from '../../src/core/outcome.js';
import { defaultRetrySchedule, defaults, type RetryPolicy } from '../../src/core/webhook.js';

const createdAt = new Date('2026-03-05T10:00:00.000Z');
const policy: RetryPolicy = { ...defaults.retryPolicy };
const status = (statusCode: number, retryAfterMs?: number): AttemptResult => ({
  ok: false,
  kind: 'HTTP_STATUS',
  statusCode,
  message: `the endpoint answered ${statusCode}`,
  ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
});
const failure = (kind: Exclude<AttemptResult, { ok: true }>['kind']): AttemptResult => ({
  ok: false,
  kind,
  message: kind,
});
const at = (seconds: number) => new Date(createdAt.getTime() + seconds * 1000);

describe('isRetryable: which failures are worth another try', () => {
  const cases: [string, AttemptResult, boolean][] = [
    ['a success', { ok: true, statusCode: 200 }, false],
    ['408', status(408), true],
    ['429', status(429), true],
    ['500', status(500), true],
    ['503', status(503), true],
    ['400', status(400), false],
    ['401', status(401), false],
    ['404', status(404), false],
    ['410', status(410), false],
    ['a redirect', status(302), false],
    ['a timeout', failure('TIMEOUT'), true],
    ['a refused connection', failure('CONNECTION'), true],
    ['a TLS failure', failure('TLS'), true],
    ['a refused target address', failure('TARGET_NOT_ALLOWED'), false],
    ['a body too large', failure('PAYLOAD_TOO_LARGE'), false],
  ];
  for (const [name, result, expected] of cases) {
    it(`${name}: ${expected ? 'retry' : 'no retry'}`, () => assert.equal(isRetryable(result), expected));
  }
});

describe('decideOutcome: the default schedule', () => {
  it('is OpenMetadata’s: 1 min, 5 min, 15 min, 1 h, 4 h, 12 h', () => {
    assert.deepEqual(defaultRetrySchedule, [60, 300, 900, 3600, 14_400, 43_200]);
  });

  it('retries a failing delivery after each step, then fails it on the seventh attempt', () => {
    let now = createdAt;
    for (const [i, step] of defaultRetrySchedule.entries()) {
      const outcome = decideOutcome({
        result: status(500),
        attemptInSchedule: i + 1,
        createdAt,
        policy,
        now,
      });
      const next = new Date(now.getTime() + step * 1000);
      assert.deepEqual(
        outcome,
        { status: 'AWAITING_RETRY', nextAttemptAt: next, webhookStatus: 'AWAITING_RETRY' },
        `attempt ${i + 1}`,
      );
      now = next;
    }
    assert.deepEqual(decideOutcome({ result: status(500), attemptInSchedule: 7, createdAt, policy, now }), {
      status: 'FAILED',
      nextAttemptAt: null,
      webhookStatus: 'RETRY_LIMIT_REACHED',
    });
  });

  it('succeeds on a 2xx and sets the webhook ACTIVE, whatever came before', () => {
    assert.deepEqual(
      decideOutcome({
        result: { ok: true, statusCode: 204 },
        attemptInSchedule: 4,
        createdAt,
        policy,
        now: at(9),
      }),
      { status: 'SUCCEEDED', nextAttemptAt: null, webhookStatus: 'ACTIVE' },
    );
  });

  it('fails at once on a 4xx, leaving the webhook’s status alone', () => {
    assert.deepEqual(
      decideOutcome({ result: status(400), attemptInSchedule: 1, createdAt, policy, now: at(0) }),
      {
        status: 'FAILED',
        nextAttemptAt: null,
      },
    );
  });

  it('fails the delivery and the webhook on 410 Gone, even when lossy', () => {
    const expected = { status: 'FAILED', nextAttemptAt: null, webhookStatus: 'FAILED' };
    assert.deepEqual(
      decideOutcome({ result: status(410), attemptInSchedule: 1, createdAt, policy, now: at(0) }),
      expected,
    );
    assert.deepEqual(
      decideOutcome({
        result: status(410),
        attemptInSchedule: 1,
        createdAt,
        policy: { ...policy, lossy: true },
        now: at(0),
      }),
      expected,
    );
  });
});

describe('decideOutcome: Retry-After, discard and lossy', () => {
  it('waits for a Retry-After longer than the step, and keeps the step when it is shorter', () => {
    const longer = decideOutcome({
      result: status(429, 120_000),
      attemptInSchedule: 1,
      createdAt,
      policy,
      now: at(0),
    });
    assert.deepEqual(longer.nextAttemptAt, at(120));
    const shorter = decideOutcome({
      result: status(429, 5_000),
      attemptInSchedule: 1,
      createdAt,
      policy,
      now: at(0),
    });
    assert.deepEqual(shorter.nextAttemptAt, at(60));
  });

  it('caps Retry-After at 24 hours', () => {
    const week = 7 * 24 * 3600 * 1000;
    const outcome = decideOutcome({
      result: status(503, week),
      attemptInSchedule: 1,
      createdAt,
      policy,
      now: at(0),
    });
    assert.deepEqual(outcome.nextAttemptAt, at(24 * 3600));
  });

  it('follows a custom schedule, and fails once it is used up', () => {
    const custom = { ...policy, scheduleSeconds: [5, 10] };
    assert.deepEqual(
      decideOutcome({ result: status(500), attemptInSchedule: 2, createdAt, policy: custom, now: at(5) })
        .nextAttemptAt,
      at(15),
    );
    assert.equal(
      decideOutcome({ result: status(500), attemptInSchedule: 3, createdAt, policy: custom, now: at(15) })
        .status,
      'FAILED',
    );
    assert.equal(
      decideOutcome({
        result: status(500),
        attemptInSchedule: 1,
        createdAt,
        policy: { ...policy, scheduleSeconds: [] },
        now: at(0),
      }).webhookStatus,
      'RETRY_LIMIT_REACHED',
    );
  });

  it('discards a delivery whose next try would fall past discardAfterSeconds from its start', () => {
    const discarding = { ...policy, discardAfterSeconds: 400 };
    // Attempt 2 at 60 s would be retried at 360 s: inside the window.
    assert.equal(
      decideOutcome({ result: status(500), attemptInSchedule: 2, createdAt, policy: discarding, now: at(60) })
        .status,
      'AWAITING_RETRY',
    );
    // Attempt 3 at 360 s would be retried at 1260 s: past it.
    assert.deepEqual(
      decideOutcome({
        result: status(500),
        attemptInSchedule: 3,
        createdAt,
        policy: discarding,
        now: at(360),
      }),
      { status: 'DISCARDED', nextAttemptAt: null },
    );
    // Exactly at the edge is still inside.
    assert.equal(
      decideOutcome({
        result: status(500),
        attemptInSchedule: 1,
        createdAt,
        policy: { ...policy, discardAfterSeconds: 60 },
        now: at(0),
      }).status,
      'AWAITING_RETRY',
    );
  });

  it('drops a lossy webhook’s delivery at the first retryable failure', () => {
    assert.deepEqual(
      decideOutcome({
        result: failure('TIMEOUT'),
        attemptInSchedule: 1,
        createdAt,
        policy: { ...policy, lossy: true },
        now: at(0),
      }),
      { status: 'DISCARDED', nextAttemptAt: null },
    );
  });
});

describe('parseRetryAfter: delay-seconds or an HTTP date', () => {
  const now = new Date('2026-03-05T10:00:00.000Z');
  it('reads whole seconds, spaces around them allowed', () => {
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
  });
  it('reads an HTTP date as the time until it, never negative', () => {
    assert.equal(parseRetryAfter('Thu, 05 Mar 2026 10:01:30 GMT', now), 90_000);
    assert.equal(parseRetryAfter('Thu, 05 Mar 2026 09:00:00 GMT', now), 0);
  });
  it('ignores a missing or unreadable value', () => {
    assert.equal(parseRetryAfter(undefined, now), undefined);
    assert.equal(parseRetryAfter('', now), undefined);
    assert.equal(parseRetryAfter('soon', now), undefined);
  });
});
