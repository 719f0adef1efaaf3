import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { collect, subscriptionsOpen, wsClient } from '../helpers/live.js';
import { type HooklineProcess, runHookline } from '../helpers/process.js';
import { eventually, type Receiver, startReceiver } from '../helpers/receiver.js';
import { ADMIN_TOKEN, gqlRequest } from '../helpers/server.js';

const postgres = backends().find((b) => b.name === 'postgres');
const EVENTS = 40;

describe(
  'API and dispatcher in separate processes (postgres)',
  { skip: !postgres && 'needs TEST_DATABASE_URL: processes share a database only on PostgreSQL' },
  () => {
    let database: { url: string; drop(): Promise<void> };
    let receiver: Receiver;
    const processes: HooklineProcess[] = [];

    before(async () => {
      database = await (postgres as NonNullable<typeof postgres>).create();
      receiver = await startReceiver();
    });
    after(async () => {
      await Promise.all(processes.map((p) => p.kill('SIGTERM')));
      await receiver?.close();
      await database?.drop();
    });

    it('streams to a subscriber of a --role api process every attempt a --role worker process makes', async () => {
      const env = {
        DATABASE_URL: database.url,
        HOOKLINE_ADMIN_TOKEN: ADMIN_TOKEN,
        HOOKLINE_ALLOW_PRIVATE_TARGETS: '127.0.0.1',
        PORT: '0',
      };
      const api = runHookline(['serve', '--role', 'api'], env);
      processes.push(api);
      const url = await api.listening;
      const created = await gqlRequest<any>(
        url,
        `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`,
        {
          input: makeWebhookInput({
            config: { endpoint: `${receiver.url}/split` },
            eventFilters: [{ eventTypes: ['split'] }],
          }),
        },
      );
      const webhookId = created.data.createWebhook.id;

      const client = wsClient(url);
      const logs = collect(
        client,
        `subscription($w: ID) { deliveryLogs(webhookId: $w) { status delivery { event { id } } } }`,
        { w: webhookId },
      );
      await subscriptionsOpen(url, 1);
      const published = await gqlRequest<any>(
        url,
        `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`,
        {
          inputs: Array.from({ length: EVENTS }, (_, i) => ({ eventType: 'split', entityId: `s-${i}` })),
        },
      );
      const ids: string[] = published.data.publishEvents.map((e: { id: string }) => e.id);

      // The API process has no dispatcher: nothing leaves until a worker runs.
      const queued = await gqlRequest<any>(url, `{ deliveries(status: [PENDING]) { totalCount } }`);
      assert.equal(queued.data.deliveries.totalCount, EVENTS);
      assert.equal(receiver.received.length, 0);

      const worker = runHookline(['serve', '--role', 'worker'], env);
      processes.push(worker);
      await worker.logged(/"msg":"dispatcher started"/);
      // A worker serves only the operator's endpoints.
      const workerUrl = /"url":"(http:\/\/[^"]+)","msg":"serving health and metrics"/.exec(
        worker.stdout(),
      )?.[1];
      assert.ok(workerUrl);
      assert.equal((await fetch(`${workerUrl}/readyz`)).status, 200);
      assert.match(await (await fetch(`${workerUrl}/metrics`)).text(), /hookline_delivery_attempts_total/);
      assert.equal((await fetch(`${workerUrl}/graphql`)).status, 404);
      await receiver.waitFor(() => receiver.received.length >= EVENTS, 30_000);
      await eventually(
        async () => (logs.items.length >= EVENTS ? true : undefined),
        30_000,
        `${EVENTS} live attempts`,
      );
      assert.deepEqual(logs.items.map((x: any) => x.deliveryLogs.delivery.event.id).sort(), [...ids].sort());
      assert.ok(logs.items.every((x: any) => x.deliveryLogs.status === 'SUCCEEDED'));
      assert.equal(/"msg":"listening"/.test(worker.stdout()), false, 'the worker serves no API');
      logs.stop();
      await client.dispose();
      assert.equal(await worker.kill('SIGTERM'), 0);
      assert.equal(await api.kill('SIGTERM'), 0);
    });
  },
);
