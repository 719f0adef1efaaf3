import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWebhook, deliveryWhen, getDelivery, publish } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { type Receiver, startReceiver, statuses } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

for (const backend of backends()) {
  describe(`retries and webhook status (${backend.name})`, () => {
    let server: TestServer;
    const receivers: Receiver[] = [];
    const receiver = async (...args: Parameters<typeof startReceiver>) => {
      const r = await startReceiver(...args);
      receivers.push(r);
      return r;
    };

    before(async () => {
      server = await startServer(backend);
    });
    after(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await server?.stop();
    });

    let cases = 0;

    /**
     * A webhook on its own receiver, listening to an event type of its own so that tests do not
     * see each other's events, and one event published to it; returns the delivery id.
     */
    async function setUp(
      retryPolicy: Record<string, unknown>,
      config: Record<string, unknown> = {},
      rx?: Receiver,
    ) {
      const r = rx ?? (await receiver());
      const eventType = `orderPlaced.${++cases}`;
      const webhookId = await createWebhook(server, {
        config: { endpoint: `${r.url}/hook`, ...config },
        retryPolicy,
        eventFilters: [{ eventTypes: [eventType] }],
      });
      const event = await publish(server, { eventType, entityType: 'order', entityId: 'o-1' });
      const [delivery] = event.deliveries;
      assert.ok(delivery, 'the event matched the webhook');
      return { r, webhookId, deliveryId: delivery.id };
    }

    it('retries a 500 twice on its schedule, with the same webhook-id, then succeeds and sets the webhook ACTIVE', async () => {
      const r = await receiver(statuses(500, 500, 200));
      const { deliveryId } = await setUp({ scheduleSeconds: [1, 1] }, {}, r);

      const first = await deliveryWhen(server, deliveryId, (d) => d.attemptCount === 1);
      assert.equal(first.status, 'AWAITING_RETRY');
      assert.equal(first.lastStatusCode, 500);
      assert.ok(first.nextAttemptAt);
      assert.equal(first.webhook.status, 'AWAITING_RETRY');
      assert.equal(first.webhook.failureDetails.lastFailedStatusCode, 500);
      assert.match(first.webhook.failureDetails.lastFailedReason, /500/);
      assert.equal(first.webhook.failureDetails.nextAttempt, first.nextAttemptAt);

      const done = await deliveryWhen(server, deliveryId, (d) => d.status === 'SUCCEEDED');
      assert.equal(done.attemptCount, 3);
      assert.equal(done.webhook.status, 'ACTIVE');
      assert.equal(done.webhook.failureDetails.nextAttempt, null);
      assert.equal(done.webhook.failureDetails.lastFailedStatusCode, 500, 'the last failure stays on record');
      assert.deepEqual(
        done.attempts.map((a: any) => [a.attemptNumber, a.responseStatus, a.status, a.errorKind]),
        [
          [1, 500, 'AWAITING_RETRY', 'HTTP_STATUS'],
          [2, 500, 'AWAITING_RETRY', 'HTTP_STATUS'],
          [3, 200, 'SUCCEEDED', null],
        ],
      );
      // The second attempt came no earlier than the schedule's one second after the first.
      const [a1, a2] = done.attempts;
      assert.ok(Date.parse(a2.startedAt) - Date.parse(a1.startedAt) >= 900);
      assert.equal(r.received.length, 3);
      assert.deepEqual(
        r.received.map((x) => x.headers['webhook-id']),
        [deliveryId, deliveryId, deliveryId],
      );
    });

    it('fails the delivery and sets RETRY_LIMIT_REACHED when the schedule is exhausted', async () => {
      const r = await receiver(statuses(500, 502, 503));
      const { deliveryId } = await setUp({ scheduleSeconds: [1] }, {}, r);
      const done = await deliveryWhen(server, deliveryId, (d) => d.status === 'FAILED');
      assert.equal(done.attemptCount, 2);
      assert.equal(done.nextAttemptAt, null);
      assert.equal(done.webhook.status, 'RETRY_LIMIT_REACHED');
      assert.equal(done.webhook.failureDetails.lastFailedStatusCode, 502);
      assert.equal(r.received.length, 2);
    });

    it('marks the webhook FAILED on 410 Gone and sends it nothing more', async () => {
      const gone = await receiver(statuses(410));
      const { webhookId, deliveryId } = await setUp({ scheduleSeconds: [1] }, {}, gone);
      const done = await deliveryWhen(server, deliveryId, (d) => d.status === 'FAILED');
      assert.equal(done.attemptCount, 1);
      assert.equal(done.webhook.status, 'FAILED');

      // A later event for it waits; one for a healthy webhook, published after, is delivered first.
      const healthy = await receiver();
      await createWebhook(server, {
        config: { endpoint: `${healthy.url}/ok` },
        eventFilters: [{ eventTypes: ['afterGone'] }],
      });
      const waiting = await publish(server, { eventType: `orderPlaced.${cases}` });
      const mine = waiting.deliveries.find((d) => d.webhook.id === webhookId);
      assert.ok(mine);
      await publish(server, { eventType: 'afterGone' });
      await healthy.waitForCount(1);
      assert.equal((await getDelivery(server, mine.id)).status, 'PENDING');
      assert.equal(gone.received.length, 1);
    });

    it('fails a 400 at once without retrying, leaving the webhook ACTIVE with the failure on record', async () => {
      const r = await receiver(statuses(400));
      const { deliveryId } = await setUp({ scheduleSeconds: [1, 1] }, {}, r);
      const done = await deliveryWhen(server, deliveryId, (d) => d.status === 'FAILED');
      assert.equal(done.attemptCount, 1);
      assert.equal(done.webhook.status, 'ACTIVE');
      assert.equal(done.webhook.failureDetails.lastFailedStatusCode, 400);
      assert.equal(done.webhook.failureDetails.nextAttempt, null);
    });

    it('records a receiver that does not answer within timeoutMs as a TIMEOUT', async () => {
      const held: import('node:http').ServerResponse[] = [];
      const r = await receiver((_req, res) => {
        held.push(res);
      });
      const { deliveryId } = await setUp({ scheduleSeconds: [] }, { timeoutMs: 300 }, r);
      const done = await deliveryWhen(server, deliveryId, (d) => d.status === 'FAILED');
      for (const res of held) res.end();
      assert.equal(done.attempts[0].errorKind, 'TIMEOUT');
      assert.equal(done.attempts[0].responseStatus, null);
      assert.equal(done.webhook.status, 'RETRY_LIMIT_REACHED');
    });

    it('records a refused connection as CONNECTION', async () => {
      const closed = await startReceiver();
      const url = closed.url;
      await closed.close();
      const { deliveryId } = await setUp({ scheduleSeconds: [] }, { endpoint: `${url}/nobody-home` });
      const done = await deliveryWhen(server, deliveryId, (d) => d.status === 'FAILED');
      assert.equal(done.attempts[0].errorKind, 'CONNECTION');
      assert.match(done.attempts[0].errorMessage, /ECONNREFUSED/);
    });

    it('honours Retry-After when it asks for longer than the schedule', async () => {
      const r = await receiver(statuses({ status: 503, headers: { 'retry-after': '3' } }, 200));
      const { deliveryId } = await setUp({ scheduleSeconds: [1] }, {}, r);
      const waiting = await deliveryWhen(server, deliveryId, (d) => d.attemptCount === 1);
      const firstTry = Date.parse(waiting.attempts[0].startedAt);
      assert.ok(Date.parse(waiting.nextAttemptAt) - firstTry >= 3000, `next at ${waiting.nextAttemptAt}`);
      const done = await deliveryWhen(server, deliveryId, (d) => d.status === 'SUCCEEDED');
      assert.ok(Date.parse(done.attempts[1].startedAt) - firstTry >= 3000);
    });

    it('discards a delivery whose next try would fall past discardAfterSeconds', async () => {
      const r = await receiver(statuses(500));
      const { deliveryId } = await setUp({ scheduleSeconds: [5], discardAfterSeconds: 2 }, {}, r);
      const done = await deliveryWhen(server, deliveryId, (d) => d.status === 'DISCARDED');
      assert.equal(done.attemptCount, 1);
      assert.equal(r.received.length, 1);
    });

    it('starts the discard window again when a delivery is retried by hand', async () => {
      const r = await receiver(statuses(400, 200));
      const { deliveryId } = await setUp({ discardAfterSeconds: 1 }, {}, r);
      await deliveryWhen(server, deliveryId, (d) => d.status === 'FAILED');
      // Past the window since creation: a hand retry still gets its own second.
      await new Promise((resolve) => setTimeout(resolve, 1200));
      await server.gql(`mutation($id: ID!) { retryDelivery(id: $id) { id } }`, { id: deliveryId });
      const done = await deliveryWhen(
        server,
        deliveryId,
        (d) => d.status === 'SUCCEEDED' || d.status === 'DISCARDED',
      );
      assert.equal(done.status, 'SUCCEEDED');
      assert.equal(done.attemptCount, 2);
    });

    it('drops a delivery at the first failure when the webhook is lossy', async () => {
      const r = await receiver(statuses(503));
      const { deliveryId } = await setUp({ scheduleSeconds: [1, 1], lossy: true }, {}, r);
      const done = await deliveryWhen(server, deliveryId, (d) => d.status === 'DISCARDED');
      assert.equal(done.attemptCount, 1);
      assert.equal(done.nextAttemptAt, null);
    });

    it('holds deliveries of a disabled webhook and sends them once it is enabled again', async () => {
      const r = await receiver();
      const webhookId = await createWebhook(server, {
        config: { endpoint: `${r.url}/later` },
        eventFilters: [{ eventTypes: ['beforeDisable', 'whileDisabled'] }],
      });
      const [queued] = (await publish(server, { eventType: 'beforeDisable' })).deliveries.filter(
        (d) => d.webhook.id === webhookId,
      );
      assert.ok(queued);
      await deliveryWhen(server, queued.id, (d) => d.status === 'SUCCEEDED');
      const off = await server.gql(
        `mutation($id: ID!) { updateWebhook(id: $id, input: { enabled: false }) { status } }`,
        {
          id: webhookId,
        },
      );
      assert.equal(off.data.updateWebhook.status, 'DISABLED');
      // Disabled webhooks match no new events.
      const none = await publish(server, { eventType: 'whileDisabled' });
      assert.equal(
        none.deliveries.some((d) => d.webhook.id === webhookId),
        false,
      );
      await server.gql(`mutation($id: ID!) { retryDelivery(id: $id) { status } }`, { id: queued.id });
      const healthy = await receiver();
      await createWebhook(server, {
        config: { endpoint: `${healthy.url}/ok` },
        eventFilters: [{ eventTypes: ['probe'] }],
      });
      await publish(server, { eventType: 'probe' });
      await healthy.waitForCount(1);
      assert.equal((await getDelivery(server, queued.id)).status, 'PENDING', 'it waits while disabled');
      await server.gql(`mutation($id: ID!) { updateWebhook(id: $id, input: { enabled: true }) { status } }`, {
        id: webhookId,
      });
      await deliveryWhen(server, queued.id, (d) => d.status === 'SUCCEEDED' && d.attemptCount === 2);
    });
  });
}
