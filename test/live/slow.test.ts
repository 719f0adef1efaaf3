import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { createWebhook } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { openSubscriptions, subscriptionsOpen } from '../helpers/live.js';
import { eventually, type Receiver, startReceiver } from '../helpers/receiver.js';
import { ADMIN_TOKEN, startServer, type TestServer } from '../helpers/server.js';

const EVENTS = 1000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const BUFFER = 50;

for (const backend of backends()) {
  describe(`a subscriber that never reads (${backend.name})`, () => {
    let server: TestServer;
    let receiver: Receiver;
    before(async () => {
      server = await startServer(backend, { HOOKLINE_SUBSCRIBER_BUFFER: String(BUFFER) });
      receiver = await startReceiver((_req, res) => {
        res.end('k'.repeat(4096));
      });
    });
    after(async () => {
      await receiver?.close();
      await server?.stop();
    });

    it(`neither stops ${EVENTS} deliveries nor grows memory without bound, and is told and dropped`, async (t) => {
      await createWebhook(server, {
        config: { endpoint: `${receiver.url}/bulk` },
        eventFilters: [{ eventTypes: ['bulk'] }],
      });

      // A real WebSocket that subscribes and then stops reading its socket.
      const socket = new WebSocket(`${server.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
      const closed = new Promise<[number, string]>((resolve) =>
        socket.on('close', (code, reason) => resolve([code, String(reason)])),
      );
      await new Promise((resolve) => socket.once('open', resolve));
      socket.send(
        JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
      );
      await new Promise((resolve) => socket.once('message', resolve));
      socket.send(
        JSON.stringify({
          id: '1',
          type: 'subscribe',
          // Each message carries the event data and both bodies, about 20 KB, so the socket's
          // kernel buffers fill long before the run ends.
          payload: {
            query:
              'subscription { deliveryLogs { id requestBody responseBody delivery { event { data } } } }',
          },
        }),
      );
      await subscriptionsOpen(server.url, 1);
      (socket as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();

      gc();
      const before = process.memoryUsage();
      const data = { blob: 'd'.repeat(8000) };
      for (let i = 0; i < EVENTS; i += 100) {
        const res = await server.gql(
          `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`,
          {
            inputs: Array.from({ length: 100 }, (_, j) => ({
              eventType: 'bulk',
              entityId: `e-${i + j}`,
              data,
            })),
          },
        );
        assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      }
      // Dropped early on, once 50 messages wait for it; told why when it reads again.
      await eventually(
        async () => ((await openSubscriptions(server.url)) === 0 ? true : undefined),
        60_000,
        'dropped',
      );
      (socket as unknown as { _socket: { resume(): void } })._socket.resume();
      const [code, reason] = await closed;
      assert.equal(code, 1008, `closed with ${code} ${reason}`);
      assert.match(reason, /too slow/);

      await eventually(
        async () => {
          const done = await server.gql(`{ deliveries(status: [SUCCEEDED]) { totalCount } }`);
          return done.data.deliveries.totalCount >= EVENTS ? true : undefined;
        },
        120_000,
        `${EVENTS} deliveries SUCCEEDED`,
      );
      gc();
      const after = process.memoryUsage();
      t.diagnostic(
        `memory across ${EVENTS} deliveries with a stuck subscriber: rss ${(before.rss / 2 ** 20).toFixed(0)} -> ${(after.rss / 2 ** 20).toFixed(0)} MiB, heap ${(before.heapUsed / 2 ** 20).toFixed(0)} -> ${(after.heapUsed / 2 ** 20).toFixed(0)} MiB`,
      );
      // What it could not keep up with was dropped, not queued: 1000 messages of ~20 KB would be
      // ~20 MB held for this one client.
      assert.ok(after.heapUsed - before.heapUsed < 64 * 2 ** 20, 'heap grew by less than 64 MiB');
    });
  });
}
