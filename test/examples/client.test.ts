import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/db.js';
import { runTypeScript } from '../helpers/example.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { ADMIN_TOKEN, startServer, type TestServer } from '../helpers/server.js';

for (const backend of backends()) {
  describe(`examples/client: the typed client (${backend.name})`, () => {
    let server: TestServer;
    let receiver: Receiver;

    before(async () => {
      server = await startServer(backend);
      receiver = await startReceiver();
    });
    after(async () => {
      await receiver.close();
      await server.stop();
    });

    it('creates a webhook, follows deliveryLogs, publishes events and prints each attempt', async () => {
      const client = runTypeScript('examples/client/main.ts', {
        HOOKLINE_URL: server.url,
        HOOKLINE_TOKEN: ADMIN_TOKEN,
        RECEIVER_URL: `${receiver.url}/orders`,
        EVENTS: '3',
      });
      const code = await client.exited;
      const output = client.output();
      assert.equal(code, 0, output);
      const lines = client.lines();

      const webhook = /^webhook (wh_\S+) kit-demo-\S+ version 0\.1 signed=false$/.exec(lines[0] ?? '');
      assert.ok(webhook, output);
      // The test delivery's own line and its attempt's come in either order.
      const testDelivery = lines.map((l) => /^test (dlv_\S+) SUCCEEDED$/.exec(l)).find(Boolean);
      assert.ok(testDelivery, output);
      assert.ok(lines.includes('following deliveryLogs'), output);

      const published = lines.filter((l) => /^published evt_\S+ order\.paid deliveries=1$/.test(l));
      assert.equal(published.length, 3, output);

      // Each delivery the receiver got, the client saw on the live log, with its outcome.
      const orders = receiver.received.filter((r) => r.json?.eventType === 'order.paid');
      assert.deepEqual(orders.map((r) => r.json.data.order).sort(), [1, 2, 3]);
      for (const r of orders) {
        assert.equal(r.path, '/orders');
        const attempt = new RegExp(`^attempt ${r.headers['webhook-id']} #1 SUCCEEDED HTTP 200 \\d+ ms$`);
        assert.ok(
          lines.some((l) => attempt.test(l)),
          output,
        );
      }
      assert.ok(
        receiver.received.some((r) => r.headers['webhook-id'] === testDelivery[1]),
        'the test delivery reached the receiver',
      );
      // The client tests again while its subscription is not yet listening (it cannot tell when
      // it starts): one test delivery per try, then the three orders, and nothing else.
      const tests = lines.filter((l) => /^test dlv_\S+ SUCCEEDED$/.test(l)).length;
      assert.deepEqual(
        receiver.received.map((r) => r.json?.eventType).sort(),
        [...Array(tests).fill('hookline.test'), 'order.paid', 'order.paid', 'order.paid'],
        output,
      );
      assert.equal(lines.at(-2), 'delivered 3 of 3', output);
      assert.equal(lines.at(-1), `deleted ${webhook[1]}`, output);

      const left = await server.gql(`query($id: ID!) { webhook(id: $id) { id } }`, { id: webhook[1] });
      assert.equal(left.data.webhook, null, 'the client deleted its webhook');
    });
  });
}
