import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWebhook, deliveryWhen, publish } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { collect, wsClient } from '../helpers/live.js';
import { eventually, type Receiver, startReceiver, statuses } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

for (const backend of backends()) {
  describe(`a failure stays with the subscription or webhook it belongs to (${backend.name})`, () => {
    let server: TestServer;
    let receiver: Receiver;
    before(async () => {
      server = await startServer(backend);
      receiver = await startReceiver();
    });
    after(async () => {
      await receiver?.close();
      await server?.stop();
    });

    it('fails one bad subscription over graphql-ws without closing the others on the socket', async () => {
      const client = wsClient(server.url);
      const good = collect(client, `subscription { webhookStatusChanged { id status } }`);
      const bad = collect(client, `subscription { webhookStatusChanged { id `);
      await bad.done;
      assert.ok(bad.errors.length > 0);
      const id = await createWebhook(server, {
        config: { endpoint: `${receiver.url}/ws` },
        eventFilters: [{ eventTypes: ['never'] }],
      });
      await server.gql(`mutation($id: ID!) { updateWebhook(id: $id, input: { enabled: false }) { id } }`, {
        id,
      });
      await eventually(
        async () => (good.items.length > 0 ? true : undefined),
        10_000,
        'the good subscription still delivers',
      );
      good.stop();
      await client.dispose();
    });

    it('keeps delivering to healthy webhooks past a FAILED webhook’s backlog, and restarts it when it is changed', async () => {
      const gone = await startReceiver(statuses(410));
      try {
        const deadId = await createWebhook(server, {
          config: { endpoint: `${gone.url}/gone` },
          eventFilters: [{ eventTypes: ['backlog'] }],
        });
        const first = await publish(server, { eventType: 'backlog' });
        await deliveryWhen(server, first.deliveries[0]!.id, (d) => d.webhook.status === 'FAILED');
        for (let i = 0; i < 2; i++) {
          await server.gql(
            `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`,
            {
              inputs: Array.from({ length: 600 }, () => ({ eventType: 'backlog' })),
            },
          );
        }
        const okType = `healthy.${Date.now()}`;
        await createWebhook(server, {
          config: { endpoint: `${receiver.url}/healthy` },
          eventFilters: [{ eventTypes: [okType] }],
        });
        const ok = await publish(server, { eventType: okType });
        await deliveryWhen(server, ok.deliveries[0]!.id, (d) => d.status === 'SUCCEEDED', 15_000);
        const fixed = await server.gql(
          `mutation($id: ID!) { updateWebhook(id: $id, input: { description: "fixed" }) { status } }`,
          { id: deadId },
        );
        assert.equal(fixed.data.updateWebhook.status, 'ACTIVE');
      } finally {
        await gone.close();
      }
    });
  });
}
