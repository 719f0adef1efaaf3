import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWebhook, publish } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { collect, subscriptionsOpen, wsClient } from '../helpers/live.js';
import { eventually, type Receiver, startReceiver, statuses } from '../helpers/receiver.js';
import { ADMIN_TOKEN, startServer, type TestServer } from '../helpers/server.js';

const LOGS = `subscription($w: ID, $s: [DeliveryStatus!]) { deliveryLogs(webhookId: $w, status: $s) {
  id attemptNumber status responseStatus delivery { id event { id } } webhook { id name } } }`;

for (const backend of backends()) {
  describe(`live delivery logs (${backend.name})`, () => {
    let server: TestServer;
    const receivers: Receiver[] = [];
    before(async () => {
      // One request at a time per webhook, so attempts are recorded in publish order.
      server = await startServer(backend, { HOOKLINE_WEBHOOK_CONCURRENCY: '1' });
    });
    after(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await server?.stop();
    });

    it('streams every attempt of a webhook in order over graphql-ws, and nothing of other webhooks', async () => {
      const r = await startReceiver(statuses(500));
      const other = await startReceiver();
      receivers.push(r, other);
      const webhookId = await createWebhook(server, {
        config: { endpoint: `${r.url}/a` },
        // The retry comes well after the other four, however loaded the machine is.
        retryPolicy: { scheduleSeconds: [5] },
        eventFilters: [{ eventTypes: ['live.a'] }],
      });
      await createWebhook(server, {
        config: { endpoint: `${other.url}/b` },
        eventFilters: [{ eventTypes: ['live.b'] }],
      });

      const client = wsClient(server.url);
      const all = collect(client, LOGS, { w: webhookId });
      const retrying = collect(client, LOGS, { w: webhookId, s: ['AWAITING_RETRY'] });
      await subscriptionsOpen(server.url, 2);

      const published = await server.gql(
        `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id eventType } }`,
        {
          inputs: Array.from({ length: 10 }, (_, i) => ({
            eventType: i % 2 ? 'live.b' : 'live.a',
            entityId: `e-${i}`,
          })),
        },
      );
      const events = published.data.publishEvents.filter(
        (e: { eventType: string }) => e.eventType === 'live.a',
      );
      await eventually(async () => (all.items.length >= 6 ? true : undefined), 30_000, 'six attempts');
      await other.waitForCount(5);
      const seen = all.items.map((x: any) => [
        x.deliveryLogs.delivery.event.id,
        x.deliveryLogs.attemptNumber,
        x.deliveryLogs.status,
      ]);
      // The first delivery fails (500) and is retried a second later, after the other four.
      assert.deepEqual(seen, [
        [events[0]!.id, 1, 'AWAITING_RETRY'],
        [events[1]!.id, 1, 'SUCCEEDED'],
        [events[2]!.id, 1, 'SUCCEEDED'],
        [events[3]!.id, 1, 'SUCCEEDED'],
        [events[4]!.id, 1, 'SUCCEEDED'],
        [events[0]!.id, 2, 'SUCCEEDED'],
      ]);
      for (const x of all.items as any[]) assert.equal(x.deliveryLogs.webhook.id, webhookId);
      assert.equal(all.items[0].deliveryLogs.responseStatus, 500);
      assert.deepEqual(
        retrying.items.map((x: any) => x.deliveryLogs.delivery.event.id),
        [events[0]!.id],
      );
      assert.deepEqual(all.errors, []);
      all.stop();
      retrying.stop();
      await client.dispose();
      await subscriptionsOpen(server.url, 0).catch(() => {});
    });

    it('tells a webhookStatusChanged subscriber each status change', async () => {
      const r = await startReceiver(statuses(503, 200));
      receivers.push(r);
      const webhookId = await createWebhook(server, {
        config: { endpoint: `${r.url}/s` },
        retryPolicy: { scheduleSeconds: [1] },
        eventFilters: [{ eventTypes: ['live.status'] }],
      });
      const client = wsClient(server.url);
      const changes = collect(
        client,
        `subscription($w: ID) { webhookStatusChanged(webhookId: $w) { id status failureDetails { lastFailedStatusCode } } }`,
        { w: webhookId },
      );
      await subscriptionsOpen(server.url, 1);
      await publish(server, { eventType: 'live.status' });
      await eventually(
        async () => (changes.items.length >= 2 ? true : undefined),
        15_000,
        'two status changes',
      );
      await server.gql(
        `mutation($id: ID!) { updateWebhook(id: $id, input: { enabled: false }) { status } }`,
        { id: webhookId },
      );
      await eventually(
        async () => (changes.items.length >= 3 ? true : undefined),
        15_000,
        'the DISABLED change',
      );
      assert.deepEqual(
        changes.items.map((x: any) => x.webhookStatusChanged.status),
        ['AWAITING_RETRY', 'ACTIVE', 'DISABLED'],
      );
      assert.equal(changes.items[0].webhookStatusChanged.failureDetails.lastFailedStatusCode, 503);
      changes.stop();
      await client.dispose();
    });

    it('streams the same over Server-Sent Events to a plain HTTP client', async () => {
      const r = await startReceiver();
      receivers.push(r);
      const webhookId = await createWebhook(server, {
        config: { endpoint: `${r.url}/sse` },
        eventFilters: [{ eventTypes: ['live.sse'] }],
      });
      const controller = new AbortController();
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          authorization: `Bearer ${ADMIN_TOKEN}`,
        },
        body: JSON.stringify({ query: LOGS, variables: { w: webhookId } }),
        signal: controller.signal,
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      const received: any[] = [];
      const reading = (async () => {
        const decoder = new TextDecoder();
        let buffer = '';
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let cut = buffer.indexOf('\n\n');
          while (cut >= 0) {
            const frame = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const data = frame.split('\n').find((l) => l.startsWith('data:'));
            if (frame.startsWith('event: next') && data) received.push(JSON.parse(data.slice(5)));
            cut = buffer.indexOf('\n\n');
          }
        }
      })().catch(() => {});
      await subscriptionsOpen(server.url, 1);
      const e1 = await publish(server, { eventType: 'live.sse' });
      const e2 = await publish(server, { eventType: 'live.sse' });
      await eventually(async () => (received.length >= 2 ? true : undefined), 15_000, 'two SSE messages');
      assert.deepEqual(
        received.map((m) => m.data.deliveryLogs.delivery.event.id),
        [e1.id, e2.id],
      );
      controller.abort();
      await reading;
    });

    it('refuses a subscriber without a valid token at connect', async () => {
      for (const token of [null, 'hk_wrong']) {
        const client = wsClient(server.url, token);
        const closed = new Promise<number>((resolve) =>
          client.on('closed', (e) => resolve((e as { code: number }).code)),
        );
        const sub = collect(client, LOGS, {});
        assert.equal(await closed, 4403);
        await sub.done;
        assert.equal(sub.items.length, 0);
        await client.dispose();
      }
      const sse = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query: LOGS }),
      });
      assert.equal(sse.status, 401);
    });
  });
}
