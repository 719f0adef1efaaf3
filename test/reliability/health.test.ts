import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWebhook } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { collect, subscriptionsOpen, wsClient } from '../helpers/live.js';
import { eventually, ok, type Receiver, type Responder, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

const OPERATIONAL = ['webhook.disabled', 'delivery.failing'];
const failing: Responder = (_req, res) => {
  res.writeHead(500).end('down');
};
/** 500, 500, 200, ...: two attempts in three fail. */
const flapping: Responder = (_req, res, n) => {
  res.writeHead(n % 3 === 2 ? 200 : 500).end();
};

const HOOK = `id status enabled version updatedBy
  failureDetails { lastFailedStatusCode failingSince }
  changeDescription { fieldsUpdated { name oldValue newValue } }`;

for (const backend of backends()) {
  describe(`endpoint health: auto-disable and operational events (${backend.name})`, () => {
    let server: TestServer;
    let strict: TestServer;
    const receivers: Receiver[] = [];
    const receiver = async (responder?: Responder) => {
      const r = await startReceiver(responder);
      receivers.push(r);
      return r;
    };
    const webhook = async (s: TestServer, id: string) =>
      (await s.gql(`query($id: ID!) { webhook(id: $id) { ${HOOK} } }`, { id })).data.webhook;

    before(async () => {
      // A 2 s window stands in for the default 5 days.
      server = await startServer(backend, {
        HOOKLINE_DISABLE_AFTER_SECONDS: '2',
        HOOKLINE_DISABLE_ERROR_RATE: '50',
      });
      strict = await startServer(backend, { HOOKLINE_DISABLE_AFTER_SECONDS: '2' });
    });
    after(async () => {
      await server?.stop();
      await strict?.stop();
      for (const r of receivers) await r.close();
    });

    it('disables a webhook failing for the whole window, tells the webhooks that ask and the subscribers, and waits to be enabled again', async () => {
      const dead = await receiver(failing);
      const ops = await receiver();
      const everything = await receiver();
      const id = await createWebhook(strict, {
        config: { endpoint: `${dead.url}/dead` },
        eventFilters: [{ eventTypes: ['health'] }],
        retryPolicy: { scheduleSeconds: [1, 1, 1, 1, 1, 1, 1, 1] },
      });
      await createWebhook(strict, {
        config: { endpoint: `${ops.url}/ops` },
        eventFilters: [{ eventTypes: OPERATIONAL }],
      });
      // No filters takes every event, but operational ones must be named.
      await createWebhook(strict, { config: { endpoint: `${everything.url}/all` } });
      const client = wsClient(strict.url);
      const statusFeed = collect(
        client,
        `subscription($id: ID!) { webhookStatusChanged(webhookId: $id) { status } }`,
        {
          id,
        },
      );
      await subscriptionsOpen(strict.url, 1);

      const published = await strict.gql(
        `mutation { publishEvent(input: { eventType: "health" }) { deliveries { id } } }`,
      );
      const deliveryId = published.data.publishEvent.deliveries[0].id;

      const disabled = await eventually(
        async () => {
          const hook = await webhook(strict, id);
          return hook.status === 'DISABLED' ? hook : undefined;
        },
        20_000,
        'the webhook to be disabled',
      );
      assert.equal(disabled.enabled, false);
      assert.equal(disabled.updatedBy, 'hookline');
      assert.equal(disabled.version, 0.2);
      assert.deepEqual(
        disabled.changeDescription.fieldsUpdated.find((f: any) => f.name === 'enabled'),
        { name: 'enabled', oldValue: true, newValue: false },
      );
      assert.equal(disabled.failureDetails.lastFailedStatusCode, 500);
      assert.ok(Date.parse(disabled.failureDetails.failingSince) <= Date.now() - 2000);

      await ops.waitFor((r) => OPERATIONAL.every((type) => r.some((x) => x.json?.eventType === type)));
      const notice = ops.received.find((x) => x.json?.eventType === 'webhook.disabled');
      assert.equal(notice?.json.entity.id, id);
      const warning = ops.received.find((x) => x.json?.eventType === 'delivery.failing');
      assert.equal(warning?.json.entity.id, deliveryId);
      assert.ok(
        ops.received.filter((x) => x.json?.eventType === 'delivery.failing').length === 1,
        'delivery.failing is raised once per delivery',
      );
      await eventually(async () =>
        statusFeed.items.some((i) => i.webhookStatusChanged.status === 'DISABLED') ? true : undefined,
      );
      assert.deepEqual(
        everything.received.filter((x) => OPERATIONAL.includes(x.json?.eventType)),
        [],
        'a catch-all webhook got an operational event',
      );

      // Disabled: the delivery waits instead of being tried again.
      const attemptsAtDisable = dead.received.length;
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(dead.received.length, attemptsAtDisable);
      const waiting = await strict.gql(`query($id: ID!) { delivery(id: $id) { status } }`, {
        id: deliveryId,
      });
      assert.equal(waiting.data.delivery.status, 'AWAITING_RETRY');

      // Enabled again with the endpoint fixed: a fresh window, and the delivery goes out.
      dead.respond(ok);
      const enabled = await strict.gql(
        `mutation($id: ID!) { updateWebhook(id: $id, input: { enabled: true }) { status failureDetails { failingSince } } }`,
        { id },
      );
      assert.deepEqual(enabled.data.updateWebhook, {
        status: 'ACTIVE',
        failureDetails: { failingSince: null },
      });
      await eventually(async () => {
        const d = await strict.gql(`query($id: ID!) { delivery(id: $id) { status } }`, { id: deliveryId });
        return d.data.delivery.status === 'SUCCEEDED' ? true : undefined;
      });
      statusFeed.stop();
      await client.dispose();
    });

    it('with an error-rate threshold of 50% disables a flapping endpoint that the default 100% keeps', async () => {
      const flaky = await receiver(flapping);
      const flakyStrict = await receiver(flapping);
      const lossy = { scheduleSeconds: [1], lossy: true };
      const id = await createWebhook(server, {
        config: { endpoint: `${flaky.url}/flaky` },
        eventFilters: [{ eventTypes: ['flap'] }],
        retryPolicy: lossy,
      });
      const strictId = await createWebhook(strict, {
        config: { endpoint: `${flakyStrict.url}/flaky` },
        eventFilters: [{ eventTypes: ['flap'] }],
        retryPolicy: lossy,
      });
      // One event every 150 ms until the 50% webhook is disabled (bounded at 8 s).
      const deadline = Date.now() + 8000;
      let status = 'ACTIVE';
      while (status !== 'DISABLED' && Date.now() < deadline) {
        await server.gql(`mutation { publishEvent(input: { eventType: "flap" }) { id } }`);
        await strict.gql(`mutation { publishEvent(input: { eventType: "flap" }) { id } }`);
        await new Promise((r) => setTimeout(r, 150));
        status = (await webhook(server, id)).status;
      }
      assert.equal(status, 'DISABLED');
      assert.ok(flakyStrict.received.length >= 4, 'the 100% webhook was sent to throughout');
      const kept = await webhook(strict, strictId);
      assert.equal(kept.enabled, true, 'a success ends the run of failures at the default threshold');
    });
  });
}
