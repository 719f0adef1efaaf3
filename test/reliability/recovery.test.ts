import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWebhook } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { eventually, ok, type Receiver, type Responder, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

const failing: Responder = (_req, res) => {
  res.writeHead(500).end('down');
};

const HOOK = `id status enabled version updatedBy
  failureDetails { failingSince nextProbeAt }
  changeDescription { fieldsUpdated { name oldValue newValue } }`;
const DELIVERY = `query($id: ID!) { delivery(id: $id) { status } }`;

for (const backend of backends()) {
  describe(`endpoint health: probing auto-disabled webhooks (${backend.name})`, () => {
    let server: TestServer;
    const receivers: Receiver[] = [];
    const receiver = async (responder?: Responder) => {
      const r = await startReceiver(responder);
      receivers.push(r);
      return r;
    };
    const webhook = async (id: string) =>
      (await server.gql(`query($id: ID!) { webhook(id: $id) { ${HOOK} } }`, { id })).data.webhook;

    before(async () => {
      // A 2 s window and probes 1 s, then 2 s apart stand in for 5 days and 1 min doubling to 1 h.
      server = await startServer(backend, {
        HOOKLINE_DISABLE_AFTER_SECONDS: '2',
        HOOKLINE_PROBE_AFTER_SECONDS: '1',
        HOOKLINE_PROBE_MAX_SECONDS: '2',
        // Probes never overlap: the next waits at least for the lease (timeout plus this margin).
        HOOKLINE_LEASE_MARGIN_MS: '500',
      });
    });
    after(async () => {
      await server?.stop();
      for (const r of receivers) await r.close();
    });

    /** A webhook failing until the health rule disables it, with its delivery still queued. */
    const disabledWebhook = async (eventType: string) => {
      const dead = await receiver(failing);
      const id = await createWebhook(server, {
        config: { endpoint: `${dead.url}/dead`, timeoutMs: 1000 },
        eventFilters: [{ eventTypes: [eventType] }],
        retryPolicy: { scheduleSeconds: Array.from({ length: 20 }, () => 1) },
      });
      const published = await server.gql(
        `mutation($t: String!) { publishEvent(input: { eventType: $t }) { deliveries { id } } }`,
        { t: eventType },
      );
      const deliveryId = published.data.publishEvent.deliveries[0].id as string;
      const disabled = await eventually(
        async () => {
          const hook = await webhook(id);
          return hook.status === 'DISABLED' ? hook : undefined;
        },
        20_000,
        'the webhook to be disabled',
      );
      return { dead, id, deliveryId, disabled };
    };

    it('probes a webhook the health rule disabled, keeps it off while it fails, and turns it on when it answers', async () => {
      const ops = await receiver();
      await createWebhook(server, {
        config: { endpoint: `${ops.url}/ops` },
        eventFilters: [{ eventTypes: ['webhook.disabled', 'webhook.recovered'] }],
      });
      const { dead, id, deliveryId, disabled } = await disabledWebhook('probe.me');
      assert.equal(disabled.enabled, false);
      assert.ok(disabled.failureDetails.nextProbeAt, 'an auto-disabled webhook has a probe time');

      // Still failing: probes go out (one request each) and the webhook stays off.
      const atDisable = dead.received.length;
      await dead.waitFor((r) => r.length >= atDisable + 2, 15_000);
      const stillOff = await webhook(id);
      assert.equal(stillOff.status, 'DISABLED');
      assert.equal(stillOff.enabled, false);

      // The endpoint answers again: the next probe turns the webhook on.
      dead.respond(ok);
      const recovered = await eventually(
        async () => {
          const hook = await webhook(id);
          return hook.status === 'ACTIVE' ? hook : undefined;
        },
        15_000,
        'the webhook to recover',
      );
      assert.equal(recovered.enabled, true);
      assert.equal(recovered.updatedBy, 'hookline');
      assert.deepEqual(
        recovered.changeDescription.fieldsUpdated.find((f: { name: string }) => f.name === 'enabled'),
        { name: 'enabled', oldValue: false, newValue: true },
      );
      assert.deepEqual(recovered.failureDetails, { failingSince: null, nextProbeAt: null });
      await eventually(async () =>
        (await server.gql(DELIVERY, { id: deliveryId })).data.delivery.status === 'SUCCEEDED'
          ? true
          : undefined,
      );

      await ops.waitFor((r) => r.some((x) => x.json?.eventType === 'webhook.recovered'), 10_000);
      const notices = ops.received.filter((x) => x.json?.entity?.id === id).map((x) => x.json.eventType);
      assert.deepEqual(notices, ['webhook.disabled', 'webhook.recovered']);

      // Deliveries flow again.
      const before = dead.received.length;
      await server.gql(`mutation { publishEvent(input: { eventType: "probe.me" }) { id } }`);
      await dead.waitFor((r) => r.length > before, 10_000);
    });

    it('never probes a webhook a person turned off', async () => {
      const { dead, id } = await disabledWebhook('probe.person');
      // A person says "off": the health rule's circuit breaker stops.
      const off = await server.gql(
        `mutation($id: ID!) { updateWebhook(id: $id, input: { enabled: false }) { failureDetails { nextProbeAt } } }`,
        { id },
      );
      assert.deepEqual(off.data.updateWebhook.failureDetails, { nextProbeAt: null });
      dead.respond(ok);
      const atOff = dead.received.length;
      // Longer than two probe intervals (bounded); nothing may arrive.
      await new Promise((r) => setTimeout(r, 3500));
      assert.equal(dead.received.length, atOff, 'a person-disabled webhook was probed');
      assert.equal((await webhook(id)).status, 'DISABLED');
    });
  });
}
