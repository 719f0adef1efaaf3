import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWebhook, deliveryWhen, publish } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

const LIMIT = 4096;
const PREVIEW = `query($w: ID!, $e: ID, $input: PublishEventInput) {
  previewPayload(webhookId: $w, eventId: $e, event: $input) { body } }`;
const PUBLISH_MANY = `mutation($inputs: [PublishEventInput!]!) {
  publishEvents(inputs: $inputs) { id deliveries { id } } }`;

/** The attacker's template: 16 KB of `{{data}}`, 2,000 times in one string. */
const MULTIPLYING = { copies: '{{data}}'.repeat(2000) };

for (const backend of backends()) {
  describe(`request bodies are bounded by HOOKLINE_MAX_REQUEST_BYTES (${backend.name})`, () => {
    let server: TestServer;
    let receiver: Receiver;
    let n = 0;
    before(async () => {
      server = await startServer(backend, { HOOKLINE_MAX_REQUEST_BYTES: String(LIMIT) });
      receiver = await startReceiver();
    });
    after(async () => {
      await receiver?.close();
      await server?.stop();
    });

    /** A webhook of its own event type and path; returns its id, the event type and the path. */
    async function hook(overrides: Record<string, unknown> = {}) {
      const eventType = `bodies.${++n}`;
      const path = `/bodies-${n}`;
      const { config, ...rest } = overrides;
      const id = await createWebhook(server, {
        config: { endpoint: `${receiver.url}${path}`, ...(config as object | undefined) },
        eventFilters: [{ eventTypes: [eventType] }],
        ...rest,
      });
      return { id, eventType, path };
    }

    const arrivedAt = (path: string) => receiver.received.filter((r) => r.path === path);

    it('refuses to preview a body past the limit, with BAD_USER_INPUT naming the limit, for a described or a stored event', async () => {
      const { id, eventType } = await hook({ webhookType: 'CUSTOM', config: { template: MULTIPLYING } });
      const event = { eventType, data: { note: 'x'.repeat(1000) } };

      const described = await server.gql(PREVIEW, { w: id, input: event });
      const [error] = described.errors ?? [];
      assert.equal(error?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(described.errors));
      assert.equal(error?.extensions?.field, 'event');
      assert.equal(
        error?.message,
        `the rendered request body would be larger than ${LIMIT} bytes (HOOKLINE_MAX_REQUEST_BYTES)`,
      );
      assert.ok(described.text.length < LIMIT, 'nothing of the body comes back');

      const stored = await server.gql(PREVIEW, {
        w: (await hook({ config: {} })).id,
        e: (await publish(server, event)).id,
      });
      assert.equal(stored.errors, undefined, 'a GENERIC body of that event fits');
      const big = await publish(server, { eventType, data: { note: 'x'.repeat(LIMIT) } });
      const refused = await server.gql(PREVIEW, { w: (await hook({ config: {} })).id, e: big.id });
      assert.equal(refused.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.equal(refused.errors?.[0]?.extensions?.field, 'eventId');
      assert.match(refused.errors?.[0]?.message ?? '', new RegExp(`larger than ${LIMIT} bytes`));
    });

    it('never sends a CUSTOM template that multiplies the data past the limit: PAYLOAD_TOO_LARGE, FAILED, not retried', async () => {
      const { eventType, path } = await hook({
        webhookType: 'CUSTOM',
        config: { template: { copies: Array.from({ length: 40 }, () => '{{data}}') } },
        retryPolicy: { scheduleSeconds: [1, 1, 1] },
      });
      const event = await publish(server, { eventType, data: { note: 'y'.repeat(200) } });
      const deliveryId = event.deliveries[0]?.id as string;
      const delivery = await deliveryWhen(server, deliveryId, (d) => d.attemptCount > 0);
      assert.equal(delivery.status, 'FAILED', 'a body too large is not retried');
      assert.equal(delivery.attemptCount, 1);
      assert.equal(delivery.nextAttemptAt, null);
      const [attempt] = delivery.attempts;
      assert.equal(attempt.errorKind, 'PAYLOAD_TOO_LARGE');
      assert.match(attempt.errorMessage, new RegExp(`larger than ${LIMIT} bytes`));
      assert.match(attempt.errorMessage, /HOOKLINE_MAX_REQUEST_BYTES/);
      assert.match(attempt.errorMessage, /not retried/);
      assert.equal(attempt.requestBody, '', 'nothing oversized is stored');
      assert.equal(attempt.responseStatus, null);
      assert.equal(delivery.lastError, attempt.errorMessage);
      assert.deepEqual(arrivedAt(path), [], 'the receiver got nothing');
    });

    it('fails a GENERIC event bigger than the limit without sending it, and still sends one under it', async () => {
      const { eventType, path } = await hook({ retryPolicy: { scheduleSeconds: [1, 1, 1] } });
      const big = await publish(server, { eventType, data: { blob: 'z'.repeat(LIMIT) } });
      const failed = await deliveryWhen(server, big.deliveries[0]?.id as string, (d) => d.attemptCount > 0);
      assert.equal(failed.status, 'FAILED');
      assert.equal(failed.attempts[0].errorKind, 'PAYLOAD_TOO_LARGE');
      assert.equal(failed.attempts[0].requestBody, '');

      const small = await publish(server, { eventType, data: { blob: 'z'.repeat(1000) } });
      const sent = await deliveryWhen(
        server,
        small.deliveries[0]?.id as string,
        (d) => d.status === 'SUCCEEDED',
      );
      assert.equal(sent.attempts[0].errorKind, null);
      const got = arrivedAt(path);
      assert.equal(got.length, 1, 'only the event under the limit arrived');
      assert.equal(got[0]?.json.eventId, small.id);
      assert.equal(got[0]?.body, sent.attempts[0].requestBody);
    });

    it('splits a batch past the limit: what fits goes together, an event too big alone fails alone', async () => {
      const { eventType, path } = await hook({
        batchSize: 4,
        retryPolicy: { throttleMs: 200, scheduleSeconds: [1, 1, 1] },
      });
      // Two of the small ones fit in one request, three do not.
      const small = (label: string) => ({ eventType, data: { label, blob: 's'.repeat(1200) } });
      const res = await server.gql(PUBLISH_MANY, {
        inputs: [
          small('first'),
          small('second'),
          { eventType, data: { label: 'big', blob: 'b'.repeat(LIMIT) } },
          small('third'),
        ],
      });
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const [first, second, big, third] = res.data.publishEvents as {
        id: string;
        deliveries: { id: string }[];
      }[];
      const idOf = (e: typeof first) => e?.deliveries[0]?.id as string;

      const failed = await deliveryWhen(server, idOf(big), (d) => d.status === 'FAILED');
      assert.equal(failed.attempts.length, 1);
      assert.equal(failed.attempts[0].errorKind, 'PAYLOAD_TOO_LARGE');
      for (const event of [first, second, third]) {
        const d = await deliveryWhen(server, idOf(event), (x) => x.status === 'SUCCEEDED');
        assert.equal(d.attempts.length, 1, 'each small event was sent once');
      }
      const got = arrivedAt(path);
      for (const r of got) assert.ok(Buffer.byteLength(r.body) <= LIMIT, `${r.body.length} bytes`);
      assert.deepEqual(
        got.map((r) => r.json.events.map((e: { eventId: string }) => e.eventId)),
        [[first?.id, second?.id], [third?.id]],
        'the first two together, the big one never, the last one after it',
      );
    });
  });
}
