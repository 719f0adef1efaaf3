import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeliveryAttempt } from '../../src/core/delivery.js';
import {
  defaultHealthPolicy,
  deliveryFailingEvent,
  failedLongEnough,
  reportsFailing,
  windowStart,
} from '../../src/core/health.js';
import { EVENT_ID, makeEvent, makeWebhook } from './fixtures.js';

const policy = { ...defaultHealthPolicy, disableAfterSeconds: 3600 };
const now = new Date('2026-03-05T12:00:00.000Z');

describe('the endpoint-health rule', () => {
  it('measures its window back from now', () => {
    assert.deepEqual(windowStart(policy, now), new Date('2026-03-05T11:00:00.000Z'));
  });

  it('disables only a webhook that has been failing for the whole window', () => {
    assert.equal(failedLongEnough(policy, '2026-03-05T11:00:00.000Z', now), true, 'exactly the window');
    assert.equal(failedLongEnough(policy, '2026-03-05T11:00:01.000Z', now), false);
    assert.equal(failedLongEnough(policy, null, now), false, 'not failing');
    assert.equal(failedLongEnough({ ...policy, disableAfterSeconds: 0 }, '2020-01-01T00:00:00Z', now), false);
  });

  it('reports delivery.failing once: at the nth failed attempt, or when it ends FAILED sooner', () => {
    const attempt = (attemptNumber: number, status: DeliveryAttempt['status']) =>
      ({ attemptNumber, status }) as DeliveryAttempt;
    // The default is the third attempt.
    assert.equal(reportsFailing(attempt(2, 'AWAITING_RETRY'), defaultHealthPolicy), false);
    assert.equal(reportsFailing(attempt(3, 'AWAITING_RETRY'), defaultHealthPolicy), true);
    assert.equal(reportsFailing(attempt(4, 'AWAITING_RETRY'), defaultHealthPolicy), false);
    assert.equal(reportsFailing(attempt(1, 'FAILED'), defaultHealthPolicy), true);
    assert.equal(reportsFailing(attempt(4, 'FAILED'), defaultHealthPolicy), false, 'already reported');
    assert.equal(reportsFailing(attempt(3, 'SUCCEEDED'), defaultHealthPolicy), false);
    assert.equal(reportsFailing(attempt(3, 'DISCARDED'), defaultHealthPolicy), false);
  });

  it('describes a failing delivery as a WARN event about the webhook, for its owner too', () => {
    const webhook = makeWebhook({ name: 'orders.hook', owner: { id: 'u-1', type: 'user', name: 'ada' } });
    const deliveryId = '01900000-0000-7000-8000-0000000000dd';
    const attempt = {
      deliveryId,
      attemptNumber: 3,
      status: 'AWAITING_RETRY',
      responseStatus: 503,
      errorKind: 'HTTP_STATUS',
      errorMessage: 'the endpoint answered 503',
      startedAt: now,
    } as DeliveryAttempt;
    const next = new Date('2026-03-05T12:15:00.000Z');
    assert.deepEqual(deliveryFailingEvent(webhook, makeEvent(), attempt, next), {
      eventType: 'delivery.failing',
      entityType: 'delivery',
      entityId: `dlv_${deliveryId}`,
      entityFqn: '"orders.hook"',
      cluster: null,
      namespace: null,
      actor: { name: 'hookline', roles: [] },
      level: 'WARN',
      changedFields: [],
      data: {
        webhook: { id: `wh_${webhook.id}`, name: 'orders.hook', webhookType: 'GENERIC' },
        owner: { id: 'u-1', type: 'user', name: 'ada' },
        delivery: {
          id: `dlv_${deliveryId}`,
          status: 'AWAITING_RETRY',
          attempts: 3,
          nextAttemptAt: '2026-03-05T12:15:00.000Z',
        },
        event: { id: `evt_${EVENT_ID}`, eventType: 'entityUpdated' },
        lastStatusCode: 503,
        lastErrorKind: 'HTTP_STATUS',
        lastError: 'the endpoint answered 503',
      },
      occurredAt: now,
      idempotencyKey: null,
    });
  });
});
