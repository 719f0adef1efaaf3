import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createWebhook, deliveryWhen, publish } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { eventually, type Receiver, type Responder, startReceiver } from '../helpers/receiver.js';
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
        // The description travels in the entity too, where OpenMetadata's receivers read it.
        entity: {
          id: 't-42',
          type: 'table',
          fullyQualifiedName: 'snowflake_prod.sales.public.customers',
          description: 'Customer information table',
        },
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

  describe(`dispatching: requests claimed ahead of a free slot (${backend.name})`, () => {
    // One request at a time per webhook, so the claim takes the next one ahead and holds it
    // here until the endpoint answers.
    let server: TestServer;
    const receivers: Receiver[] = [];
    before(async () => {
      server = await startServer(backend, {
        HOOKLINE_WEBHOOK_CONCURRENCY: '1',
        // A lease of the webhook's timeout plus 0.1 s: a request held for a slot for longer
        // than that margin would be in flight when its lease ran out.
        HOOKLINE_LEASE_MARGIN_MS: '100',
      });
    });
    after(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await server?.stop();
    });

    const statuses = async (webhookId: string) => {
      const res = await server.gql(
        `query($id: ID!) { webhook(id: $id) { deliveries(first: 10) { edges { node { status } } } } }`,
        { id: webhookId },
      );
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      return (res.data.webhook.deliveries.edges as { node: { status: string } }[])
        .map((e) => e.node.status)
        .sort();
    };
    const publish = async (eventType: string, count: number) => {
      const res = await server.gql(
        `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`,
        { inputs: Array.from({ length: count }, (_, i) => ({ eventType, entityId: `${eventType}-${i}` })) },
      );
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    };

    it('a webhook disabled while a request waits for its slot: the waiting one is not sent', async () => {
      const held: ServerResponse[] = [];
      const r = await startReceiver((_req, res) => {
        held.push(res);
      });
      receivers.push(r);
      const webhookId = await createWebhook(server, {
        config: { endpoint: `${r.url}/held`, timeoutMs: 30_000 },
        eventFilters: [{ eventTypes: ['held.ahead'] }],
      });
      await publish('held.ahead', 5);
      await r.waitForCount(1);
      // One sent, three claimed ahead of the slot (the prefetch, three times the webhook's
      // concurrency), one still queued.
      await eventually(async () =>
        (await statuses(webhookId)).join() === 'IN_FLIGHT,IN_FLIGHT,IN_FLIGHT,IN_FLIGHT,PENDING'
          ? true
          : undefined,
      );
      const res = await server.gql(
        `mutation($id: ID!) { updateWebhook(id: $id, input: { enabled: false }) { id } }`,
        { id: webhookId },
      );
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      await eventually(async () =>
        (await statuses(webhookId)).join() === 'IN_FLIGHT,PENDING,PENDING,PENDING,PENDING' ? true : undefined,
      );
      for (const res of held) res.end('ok');
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(r.received.length, 1, 'nothing more is sent to the disabled webhook');
      assert.deepEqual(await statuses(webhookId), ['PENDING', 'PENDING', 'PENDING', 'PENDING', 'SUCCEEDED']);

      r.respond((_req, res) => {
        res.end('ok');
      });
      const enabled = await server.gql(
        `mutation($id: ID!) { updateWebhook(id: $id, input: { enabled: true }) { id } }`,
        { id: webhookId },
      );
      assert.equal(enabled.errors, undefined, JSON.stringify(enabled.errors));
      await r.waitForCount(5);
      assert.equal(new Set(r.received.map((x) => x.json.eventId)).size, 5);
    });

    it('a request that waited for its slot longer than its lease allows is claimed again, never sent twice', async () => {
      const r = await startReceiver(async (_req, res) => {
        await new Promise((resolve) => setTimeout(resolve, 600));
        res.end('ok');
      });
      receivers.push(r);
      const webhookId = await createWebhook(server, {
        // Well past the receiver's 600 ms, so that a loaded machine's slow answer is no timeout
        // (and a retry a minute later); the margin, not the timeout, is what this is about.
        config: { endpoint: `${r.url}/slow`, timeoutMs: 5000 },
        eventFilters: [{ eventTypes: ['lease.short'] }],
      });
      await publish('lease.short', 3);
      await eventually(async () =>
        (await statuses(webhookId)).join() === 'SUCCEEDED,SUCCEEDED,SUCCEEDED' ? true : undefined,
      );
      // Past every lease the requests had: a second send of any of them would have come by now.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(r.received.length, 3);
      assert.equal(new Set(r.received.map((x) => x.json.eventId)).size, 3, 'no event was sent twice');
    });
  });

  describe(`dispatching: a webhook gone with requests in flight (${backend.name})`, () => {
    let server: TestServer;
    const receivers: Receiver[] = [];
    /** What the server logged, line by line. */
    const logged: { level: number; msg: string }[] = [];
    before(async () => {
      server = await startServer(
        backend,
        {},
        {
          log: {
            level: 'debug',
            destination: { write: (line: string) => void logged.push(JSON.parse(line)) },
          },
        },
      );
    });
    after(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await server?.stop();
    });

    it('a webhook hard-deleted mid-flight: its answers are dropped without an error, and another webhook answered with them is recorded', async () => {
      const held: ServerResponse[] = [];
      const hold: Responder = (_req, res) => {
        held.push(res);
      };
      const [doomed, kept] = [await startReceiver(hold), await startReceiver(hold)];
      receivers.push(doomed, kept);
      const doomedId = await createWebhook(server, {
        config: { endpoint: `${doomed.url}/doomed`, timeoutMs: 30_000 },
        eventFilters: [{ eventTypes: ['doomed'] }],
      });
      await createWebhook(server, {
        config: { endpoint: `${kept.url}/kept`, timeoutMs: 30_000 },
        eventFilters: [{ eventTypes: ['kept'] }],
      });
      const PUBLISH = `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { deliveries { id } } }`;
      // As many as each webhook may have in flight (4): all of them out at once, none waiting.
      await server.gql(PUBLISH, { inputs: Array.from({ length: 4 }, () => ({ eventType: 'doomed' })) });
      const published = await server.gql(PUBLISH, {
        inputs: Array.from({ length: 4 }, () => ({ eventType: 'kept' })),
      });
      const keptIds: string[] = published.data.publishEvents.map((e: any) => e.deliveries[0].id);
      await doomed.waitForCount(4);
      await kept.waitForCount(4);

      const deleted = await server.gql(`mutation($id: ID!) { deleteWebhook(id: $id, hard: true) }`, {
        id: doomedId,
      });
      assert.equal(deleted.data?.deleteWebhook, true, JSON.stringify(deleted.errors));
      // Answered together, so that both webhooks' answers are recorded in the same rounds.
      for (const res of held.splice(0)) res.end('ok');

      for (const id of keptIds) {
        const d = await deliveryWhen(server, id, (x) => x.status === 'SUCCEEDED');
        assert.deepEqual(
          d.attempts.map((a: { status: string }) => a.status),
          ['SUCCEEDED'],
        );
        assert.equal(d.webhook.status, 'ACTIVE');
      }
      // Each request ends in one line: its attempt, logged once recorded, or its record failing.
      const ended = () =>
        logged.filter((l) => l.msg === 'delivery attempt' || l.msg === 'recording a delivery attempt failed');
      await eventually(
        async () => (ended().length >= 8 ? true : undefined),
        15_000,
        'the eight answers to be recorded or to fail',
      );
      assert.deepEqual(
        logged.filter((l) => l.level >= 50 && /23503|foreign key/i.test(JSON.stringify(l))),
        [],
        'no error about the rows of the webhook that is gone',
      );
    });
  });
}
