import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createWebhook, DELIVERY_FIELDS, deliveryWhen, getDelivery, publish } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { tableUpdated } from '../helpers/factories.js';
import { eventually, type Receiver, startReceiver, statuses } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

const PUBLISH_MANY = `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id idempotencyKey deliveries { id } } }`;

for (const backend of backends()) {
  describe(`delivery history, idempotency, retry, replay and test (${backend.name})`, () => {
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

    it('stores one event per idempotency key and answers a repeat with the first event', async () => {
      const r = await receiver();
      const webhookId = await createWebhook(server, {
        config: { endpoint: `${r.url}/idem` },
        eventFilters: [{ eventTypes: ['idem'] }],
      });
      const first = await publish(server, { eventType: 'idem', idempotencyKey: 'order-7-paid' });
      const again = await publish(server, {
        eventType: 'idem',
        idempotencyKey: 'order-7-paid',
        entityId: 'ignored',
      });
      assert.equal(again.id, first.id);
      const batch = await server.gql(PUBLISH_MANY, {
        inputs: [
          { eventType: 'idem', idempotencyKey: 'order-8-paid' },
          { eventType: 'idem', idempotencyKey: 'order-8-paid' },
          { eventType: 'idem', idempotencyKey: 'order-7-paid' },
        ],
      });
      const ids = batch.data.publishEvents.map((e: { id: string }) => e.id);
      assert.equal(ids[0], ids[1]);
      assert.equal(ids[2], first.id);
      await r.waitForCount(2);
      const list = await server.gql(`query($w: ID!) { deliveries(webhookId: $w) { totalCount } }`, {
        w: webhookId,
      });
      assert.equal(list.data.deliveries.totalCount, 2, 'two events, so two deliveries');
    });

    it('publishes nothing when one event of a batch is invalid', async () => {
      const r = await receiver();
      await createWebhook(server, {
        config: { endpoint: `${r.url}/atomic` },
        eventFilters: [{ eventTypes: ['atomic'] }],
      });
      const res = await server.gql(PUBLISH_MANY, {
        inputs: [{ eventType: 'atomic', idempotencyKey: 'atomic-1' }, { eventType: 'not a valid type!' }],
      });
      assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.equal(res.errors?.[0]?.extensions?.field, 'eventType');
      assert.equal(res.errors?.[0]?.extensions?.index, 1);
      const types = await server.gql(`{ eventTypes { name } }`);
      assert.equal(
        types.data.eventTypes.some((t: { name: string }) => t.name === 'atomic'),
        false,
      );
    });

    it('keeps every attempt with the request (credentials masked) and the response (first 4 KiB)', async () => {
      const big = 'x'.repeat(10_000);
      const r = await receiver((_req, res) => {
        res.writeHead(500, { 'content-type': 'text/plain', 'x-receiver': 'yes' });
        res.end(big);
      });
      const webhookId = await createWebhook(server, {
        config: {
          endpoint: `${r.url}/history?x=1`,
          httpAuth: { type: 'BASIC', username: 'account', password: 'basic-password-1' },
          headers: [
            { name: 'X-Api-Key', value: 'header-secret-2', secret: true },
            { name: 'X-Plain', value: 'visible' },
          ],
        },
        retryPolicy: { scheduleSeconds: [] },
        eventFilters: [{ eventTypes: ['history'] }],
      });
      const event = await publish(server, { eventType: 'history', data: { note: 'hello' } });
      const delivery = await deliveryWhen(server, event.deliveries[0]!.id, (d) => d.status === 'FAILED');
      const got = r.received[0]!;
      assert.equal(
        got.headers.authorization,
        `Basic ${Buffer.from('account:basic-password-1').toString('base64')}`,
      );
      assert.equal(got.headers['x-api-key'], 'header-secret-2');

      const [attempt] = delivery.attempts;
      assert.equal(attempt.requestUrl, `${r.url}/history?x=1`);
      assert.equal(attempt.requestHeaders.authorization, 'Basic ********');
      assert.equal(attempt.requestHeaders['x-api-key'], '********');
      assert.equal(attempt.requestHeaders['x-plain'], 'visible');
      assert.equal(attempt.requestHeaders['webhook-id'], delivery.id);
      assert.equal(attempt.requestBody, got.body);
      assert.equal(attempt.responseStatus, 500);
      assert.equal(attempt.responseHeaders['x-receiver'], 'yes');
      assert.equal(attempt.responseBody, big.slice(0, 4096));
      assert.equal(attempt.errorKind, 'HTTP_STATUS');
      assert.ok(attempt.durationMs >= 0);

      const all = await server.gql(
        `query($w: ID!) { webhook(id: $w) { deliveries { edges { node { ${DELIVERY_FIELDS} } } } } }`,
        {
          w: webhookId,
        },
      );
      for (const secret of [
        'basic-password-1',
        'header-secret-2',
        Buffer.from('account:basic-password-1').toString('base64'),
      ]) {
        assert.equal(all.text.includes(secret), false, `history shows ${secret}`);
      }
    });

    it('shows each attempt the body it sent, byte for byte, after the webhook is renamed between them', async () => {
      const r = await receiver(statuses(503));
      const webhookId = await createWebhook(server, {
        name: 'orders-before',
        config: { endpoint: `${r.url}/renamed` },
        retryPolicy: { scheduleSeconds: [1] },
        eventFilters: [{ eventTypes: ['entityUpdated'], clusters: ['renamed'] }],
      });
      // Every envelope field set, a change without an old value, and data the entity reads
      // (name, owner, tags) with text that escapes.
      const event = await publish(
        server,
        tableUpdated(
          'renamed',
          { changedFields: [{ name: 'owner', newValue: { name: 'ada' } }] },
          {
            name: 'customers "gold" — ünïcode ✓',
            owner: { id: 'u-1', type: 'user', name: 'ada' },
            tags: ['PII.Sensitive', { tagFQN: 'Tier.Tier1' }],
            rows: Array.from({ length: 20 }, (_, i) => ({ i, note: `line\n${i}\u2028` })),
          },
        ),
      );
      await r.waitForCount(1);
      const renamed = await server.gql(
        `mutation($id: ID!) { updateWebhook(id: $id, input: { name: "orders-after" }) { id } }`,
        { id: webhookId },
      );
      assert.equal(renamed.errors, undefined, JSON.stringify(renamed.errors));
      const delivery = await deliveryWhen(server, event.deliveries[0]!.id, (d) => d.status === 'SUCCEEDED');
      assert.equal(r.received.length, 2);
      assert.match(r.received[0]!.body, /"webhookName":"orders-before"/);
      assert.match(r.received[1]!.body, /"webhookName":"orders-after"/);
      assert.deepEqual(
        delivery.attempts.map((a: { requestBody: string }) => a.requestBody),
        r.received.map((got) => got.body),
      );
    });

    it('retries any delivery on request, with the same webhook-id, and pages the history by status', async () => {
      const r = await receiver();
      const webhookId = await createWebhook(server, {
        config: { endpoint: `${r.url}/again` },
        eventFilters: [{ eventTypes: ['again'] }],
      });
      const event = await publish(server, { eventType: 'again' });
      const id = event.deliveries[0]!.id;
      await deliveryWhen(server, id, (d) => d.status === 'SUCCEEDED');
      const retried = await server.gql(`mutation($id: ID!) { retryDelivery(id: $id) { id status } }`, { id });
      assert.equal(retried.data.retryDelivery.id, id);
      const done = await deliveryWhen(server, id, (d) => d.status === 'SUCCEEDED' && d.attemptCount === 2);
      assert.deepEqual(
        done.attempts.map((a: any) => a.attemptNumber),
        [1, 2],
      );
      assert.deepEqual(
        r.received.map((x) => x.headers['webhook-id']),
        [id, id],
      );

      const more = await server.gql(PUBLISH_MANY, {
        inputs: Array.from({ length: 6 }, () => ({ eventType: 'again' })),
      });
      assert.equal(more.errors, undefined);
      await r.waitForCount(8);
      // A request is answered a moment before its attempt is recorded.
      await eventually(async () => {
        const res = await server.gql(
          `query($w: ID!) { deliveries(webhookId: $w, status: [SUCCEEDED]) { totalCount } }`,
          {
            w: webhookId,
          },
        );
        return res.data.deliveries.totalCount === 7 ? true : undefined;
      });
      const seen: string[] = [];
      let after: string | undefined;
      for (let page = 0; page < 5; page++) {
        const res = await server.gql(
          `query($w: ID!, $after: String) { deliveries(webhookId: $w, status: [SUCCEEDED], first: 3, after: $after) {
             totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
          { w: webhookId, after },
        );
        assert.equal(res.data.deliveries.totalCount, 7);
        seen.push(...res.data.deliveries.edges.map((e: any) => e.node.id));
        if (!res.data.deliveries.pageInfo.hasNextPage) break;
        after = res.data.deliveries.pageInfo.endCursor;
      }
      assert.equal(seen.length, 7);
      assert.equal(seen.at(-1), id, 'newest first: the first delivery comes last');
      const none = await server.gql(
        `query($w: ID!) { deliveries(webhookId: $w, status: [FAILED]) { totalCount } }`,
        {
          w: webhookId,
        },
      );
      assert.equal(none.data.deliveries.totalCount, 0);
    });

    it('replays the failed deliveries of a time range', async () => {
      const r = await receiver(statuses(400, 400, 400));
      const webhookId = await createWebhook(server, {
        config: { endpoint: `${r.url}/replay` },
        eventFilters: [{ eventTypes: ['replay'] }],
      });
      const since = new Date(Date.now() - 1000).toISOString();
      const res = await server.gql(PUBLISH_MANY, {
        inputs: Array.from({ length: 3 }, () => ({ eventType: 'replay' })),
      });
      const ids = res.data.publishEvents.map((e: any) => e.deliveries[0].id);
      for (const id of ids) await deliveryWhen(server, id, (d) => d.status === 'FAILED');
      const until = new Date(Date.now() + 1000).toISOString();
      const replayed = await server.gql(
        `mutation($w: ID!, $since: DateTime, $until: DateTime) { replayDeliveries(webhookId: $w, since: $since, until: $until, status: [FAILED]) }`,
        { w: webhookId, since, until },
      );
      assert.equal(replayed.data.replayDeliveries, 3);
      for (const id of ids)
        await deliveryWhen(server, id, (d) => d.status === 'SUCCEEDED' && d.attemptCount === 2);
      const nothing = await server.gql(
        `mutation($w: ID!) { replayDeliveries(webhookId: $w, status: [FAILED]) }`,
        { w: webhookId },
      );
      assert.equal(nothing.data.replayDeliveries, 0);
      const empty = await server.gql(
        `mutation($w: ID!, $since: DateTime) { replayDeliveries(webhookId: $w, since: $since, until: $since) }`,
        { w: webhookId, since },
      );
      assert.equal(empty.errors?.[0]?.extensions?.field, 'until');
    });

    it('sends a test event with testWebhook, whatever the filters, and returns the finished delivery', async () => {
      const r = await receiver();
      const webhookId = await createWebhook(server, {
        config: { endpoint: `${r.url}/test` },
        eventFilters: [{ eventTypes: ['neverPublished'] }],
      });
      const res = await server.gql(
        `mutation($id: ID!) { testWebhook(id: $id) { id status attemptCount event { eventType entityId } attempts { responseStatus status } } }`,
        { id: webhookId },
      );
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const delivery = res.data.testWebhook;
      assert.equal(delivery.status, 'SUCCEEDED');
      assert.deepEqual(delivery.event, { eventType: 'hookline.test', entityId: webhookId });
      assert.deepEqual(delivery.attempts, [{ responseStatus: 200, status: 'SUCCEEDED' }]);
      assert.equal(r.received[0]?.json.eventType, 'hookline.test');
      assert.equal(r.received[0]?.headers['webhook-id'], delivery.id);

      const failing = await receiver(statuses(503));
      const other = await createWebhook(server, {
        config: { endpoint: `${failing.url}/test` },
        eventFilters: [{ eventTypes: ['x'] }],
      });
      const bad = await server.gql(
        `mutation($id: ID!) { testWebhook(id: $id) { status attempts { responseStatus } webhook { status } } }`,
        {
          id: other,
        },
      );
      assert.deepEqual(bad.data.testWebhook, {
        status: 'FAILED',
        attempts: [{ responseStatus: 503 }],
        webhook: { status: 'ACTIVE' },
      });
    });

    it('sends testWebhook to a disabled webhook, which stays DISABLED after the test succeeds', async () => {
      const r = await receiver();
      const webhookId = await createWebhook(server, {
        enabled: false,
        config: { endpoint: `${r.url}/disabled` },
        eventFilters: [{ eventTypes: ['x'] }],
      });
      const res = await server.gql(
        `mutation($id: ID!) { testWebhook(id: $id) { status attempts { responseStatus } webhook { status enabled } } }`,
        { id: webhookId },
      );
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      assert.deepEqual(res.data.testWebhook, {
        status: 'SUCCEEDED',
        attempts: [{ responseStatus: 200 }],
        webhook: { status: 'DISABLED', enabled: false },
      });
      assert.equal(r.received.length, 1);
      assert.equal(r.received[0]?.json.eventType, 'hookline.test');
      const after = await server.gql(`query($id: ID!) { webhook(id: $id) { status enabled } }`, {
        id: webhookId,
      });
      assert.deepEqual(after.data.webhook, { status: 'DISABLED', enabled: false });
    });

    it('lets one testWebhook of a webhook be in flight at a time: another meanwhile is a CONFLICT and sends nothing', async () => {
      const held: ServerResponse[] = [];
      const r = await receiver((_req, res) => {
        held.push(res);
      });
      const webhookId = await createWebhook(server, {
        config: { endpoint: `${r.url}/one-at-a-time`, timeoutMs: 30_000 },
        eventFilters: [{ eventTypes: ['x'] }],
      });
      const TEST = `mutation($id: ID!) { testWebhook(id: $id) { id status } }`;
      // Both at once: whichever comes second finds the first in flight.
      const calls = [server.gql(TEST, { id: webhookId }), server.gql(TEST, { id: webhookId })];
      const first = await Promise.race(calls.map((call, i) => call.then((res) => ({ i, res }))));
      assert.equal(first.res.data, null);
      assert.equal(first.res.errors?.[0]?.extensions?.code, 'CONFLICT', JSON.stringify(first.res.errors));
      assert.equal(first.res.errors?.[0]?.extensions?.field, 'id');
      assert.match(first.res.errors?.[0]?.message ?? '', /test of this webhook is still in flight/);
      await r.waitForCount(1);
      assert.equal(held.length, 1, 'the receiver holds the one test that went out');

      r.respond((_req, res) => {
        res.end('ok');
      });
      for (const res of held) res.end('ok');
      const sent = await (calls[1 - first.i] as (typeof calls)[number]);
      assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
      assert.equal(sent.data.testWebhook.status, 'SUCCEEDED');
      assert.equal(r.received.length, 1, 'the refused test sent nothing');

      const again = await server.gql(TEST, { id: webhookId });
      assert.equal(again.errors, undefined, JSON.stringify(again.errors));
      assert.equal(again.data.testWebhook.status, 'SUCCEEDED');
      assert.equal(r.received.length, 2);
    });

    it('removes the delivery history with a hard delete', async () => {
      const r = await receiver();
      const webhookId = await createWebhook(server, {
        config: { endpoint: `${r.url}/gone` },
        eventFilters: [{ eventTypes: ['gone'] }],
      });
      const event = await publish(server, { eventType: 'gone' });
      const id = event.deliveries[0]!.id;
      await deliveryWhen(server, id, (d) => d.status === 'SUCCEEDED');
      await server.gql(`mutation($id: ID!) { deleteWebhook(id: $id, hard: true) }`, { id: webhookId });
      assert.equal(await getDelivery(server, id), null);
      const left = await server.gql(`query($w: ID!) { deliveries(webhookId: $w) { totalCount } }`, {
        w: webhookId,
      });
      assert.equal(left.data.deliveries.totalCount, 0);
      const ev = await server.gql(`query($id: ID!) { event(id: $id) { id deliveries { id } } }`, {
        id: event.id,
      });
      assert.deepEqual(ev.data.event, { id: event.id, deliveries: [] }, 'the event itself stays');
    });
  });
}
