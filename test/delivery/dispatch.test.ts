import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createWebhook, deliveryWhen, publish } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

for (const backend of backends()) {
  describe(`dispatching: isolation and batching (${backend.name})`, () => {
    let server: TestServer;
    const receivers: Receiver[] = [];

    before(async () => {
      server = await startServer(backend);
    });
    after(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await server?.stop();
    });

    it('delivers to a healthy webhook while another endpoint hangs on every request', async () => {
      const held: ServerResponse[] = [];
      let hold = true;
      const stuck = await startReceiver((_req, res) => {
        if (hold) held.push(res);
        else res.end('ok');
      });
      const fast = await startReceiver();
      receivers.push(stuck, fast);
      await createWebhook(server, {
        config: { endpoint: `${stuck.url}/slow`, timeoutMs: 30_000 },
        eventFilters: [{ eventTypes: ['toSlow'] }],
      });
      await createWebhook(server, {
        config: { endpoint: `${fast.url}/fast` },
        eventFilters: [{ eventTypes: ['toFast'] }],
      });

      // More than the slow endpoint's share of concurrent requests (4), published first.
      await server.gql(`mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`, {
        inputs: Array.from({ length: 10 }, (_, i) => ({ eventType: 'toSlow', entityId: `slow-${i}` })),
      });
      await stuck.waitForCount(4);
      const sent = await publish(server, { eventType: 'toFast', entityId: 'fast-1' });
      await fast.waitForCount(1);
      assert.equal(fast.received[0]?.json.eventId, sent.id);
      assert.equal(held.length, 4, 'the hanging endpoint holds at most its own 4 slots');
      assert.equal(
        held.every((res) => !res.writableEnded),
        true,
        'none of its requests has been answered yet',
      );
      hold = false;
      for (const res of held) res.end('late');
      await stuck.waitForCount(10, 20_000);
    });

    it('sends a batching webhook its events as {"events": [...]} of at most batchSize', async () => {
      const r = await startReceiver();
      receivers.push(r);
      await createWebhook(server, {
        config: { endpoint: `${r.url}/batch` },
        batchSize: 5,
        retryPolicy: { throttleMs: 500 },
        eventFilters: [{ eventTypes: ['batched'] }],
      });
      const res = await server.gql(
        `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`,
        {
          inputs: Array.from({ length: 12 }, (_, i) => ({ eventType: 'batched', entityId: `b-${i}` })),
        },
      );
      const ids = res.data.publishEvents.map((e: { id: string }) => e.id);
      await r.waitFor((got) => got.flatMap((x) => x.json.events ?? []).length >= 12);
      const sizes = r.received.map((x) => x.json.events.length).sort((a, b) => b - a);
      assert.deepEqual(sizes, [5, 5, 2]);
      const delivered = r.received.flatMap((x) => x.json.events.map((e: { eventId: string }) => e.eventId));
      assert.deepEqual([...delivered].sort(), [...ids].sort());
      for (const request of r.received) {
        assert.equal(request.json.events[0].eventType, 'batched');
        assert.match(request.headers['webhook-id'] ?? '', /^dlv_/);
      }
    });

    it('wraps even a single event in {"events": [...]} for a webhook that batches', async () => {
      const r = await startReceiver();
      receivers.push(r);
      await createWebhook(server, {
        config: { endpoint: `${r.url}/one` },
        batchSize: 3,
        eventFilters: [{ eventTypes: ['lonely'] }],
      });
      const event = await publish(server, { eventType: 'lonely' });
      await r.waitForCount(1);
      assert.deepEqual(
        r.received[0]?.json.events.map((e: { eventId: string }) => e.eventId),
        [event.id],
      );
      const [delivery] = event.deliveries;
      await deliveryWhen(server, delivery!.id, (d) => d.status === 'SUCCEEDED');
    });

    it('sends the GENERIC envelope with what happened, to which entity, by whom and what changed', async () => {
      const r = await startReceiver();
      receivers.push(r);
      const webhookId = await createWebhook(server, {
        name: 'envelope-check',
        config: { endpoint: `${r.url}/env`, headers: [{ name: 'X-Team', value: 'data' }] },
        eventFilters: [{ eventTypes: ['entityUpdated'], entities: ['table'] }],
      });
      const event = await publish(server, {
        eventType: 'entityUpdated',
        entityType: 'table',
        entityId: 't-42',
        entityFqn: 'snowflake_prod.sales.public.customers',
        cluster: 'prod-us',
        namespace: 'sales',
        actor: { name: 'john.doe', roles: ['DataSteward'] },
        level: 'WARN',
        occurredAt: '2026-03-05T10:23:00Z',
        changedFields: [
          { name: 'tags', oldValue: [], newValue: [{ tagFQN: 'PII.Sensitive' }] },
          { name: 'owner', newValue: { type: 'user', name: 'john.doe' } },
          { name: 'retention', oldValue: '30d' },
        ],
        data: { description: 'Customer information table' },
      });
      await r.waitForCount(1);
      const got = r.received[0]!;
      assert.equal(got.method, 'POST');
      assert.equal(got.path, '/env');
      assert.equal(got.headers['content-type'], 'application/json');
      assert.match(got.headers['user-agent'] ?? '', /^Hookline\/\d+\.\d+\.\d+/);
      assert.equal(got.headers['x-team'], 'data');
      assert.equal(got.headers['webhook-id'], event.deliveries.find((d) => d.webhook.id === webhookId)?.id);
      assert.match(got.headers['webhook-timestamp'] ?? '', /^\d{10}$/);
      assert.equal(got.headers['webhook-signature'], undefined, 'no secret, no signature');
      assert.deepEqual(got.json, {
        eventId: event.id,
        eventType: 'entityUpdated',
        timestamp: Date.parse('2026-03-05T10:23:00Z'),
        entity: { id: 't-42', type: 'table', fullyQualifiedName: 'snowflake_prod.sales.public.customers' },
        changeDescription: {
          fieldsAdded: [{ name: 'owner', newValue: { type: 'user', name: 'john.doe' } }],
          fieldsUpdated: [{ name: 'tags', oldValue: [], newValue: [{ tagFQN: 'PII.Sensitive' }] }],
          fieldsDeleted: [{ name: 'retention', oldValue: '30d' }],
        },
        webhookName: 'envelope-check',
        cluster: 'prod-us',
        namespace: 'sales',
        actor: { name: 'john.doe', roles: ['DataSteward'] },
        level: 'WARN',
        data: { description: 'Customer information table' },
      });
    });
  });

  describe(`dispatching: slots freed wake the loop (${backend.name})`, () => {
    // The safety-net poll is set far beyond the test's waits: what is not handed over at publish
    // must be claimed because a finished request woke the loop, not because the poll came round.
    let server: TestServer;
    const receivers: Receiver[] = [];
    before(async () => {
      server = await startServer(backend, {
        HOOKLINE_DISPATCH_CONCURRENCY: '4',
        HOOKLINE_WEBHOOK_CONCURRENCY: '2',
        HOOKLINE_POLL_MS: '600000',
      });
    });
    after(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await server?.stop();
    });

    const slowReceiver = async () => {
      const r = await startReceiver(async (_req, res) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        res.end('ok');
      });
      receivers.push(r);
      return r;
    };

    it('one event to more webhooks than the process has slots: every webhook gets it', async () => {
      const r = await slowReceiver();
      for (let i = 0; i < 10; i++) {
        await createWebhook(server, {
          config: { endpoint: `${r.url}/fan/${i}` },
          eventFilters: [{ eventTypes: ['fan.out'] }],
        });
      }
      const event = await publish(server, { eventType: 'fan.out' });
      assert.equal(event.deliveries.length, 10);
      await r.waitForCount(10, 20_000);
      assert.deepEqual(new Set(r.received.map((x) => x.path)).size, 10);
    });

    it('more events to one webhook than its slots: all of them arrive', async () => {
      const r = await slowReceiver();
      await createWebhook(server, {
        config: { endpoint: `${r.url}/many` },
        eventFilters: [{ eventTypes: ['many.to.one'] }],
      });
      const res = await server.gql(
        `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`,
        { inputs: Array.from({ length: 12 }, (_, i) => ({ eventType: 'many.to.one', entityId: `m-${i}` })) },
      );
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      await r.waitForCount(12, 20_000);
      assert.deepEqual(
        new Set(r.received.map((x) => x.json.eventId)),
        new Set(res.data.publishEvents.map((e: { id: string }) => e.id)),
      );
    });
  });
}
