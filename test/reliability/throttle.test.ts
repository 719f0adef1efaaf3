import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWebhook } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

const THROTTLE_MS = 1000;
/**
 * The window is taken when a request is claimed; the receiver stamps it when its body has
 * arrived, in this same (loaded) process: one request reaching it later than the next shortens
 * their gap (by up to ~150 ms under a load of 13 on 2 cores). Unthrottled they are ~150 ms apart.
 */
const TOLERANCE_MS = 300;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Publishes `n` events one by one, `gapMs` apart, through the servers in turn; resolves with the
 * ms from the first publish to the last (longer than n × gapMs on a loaded machine).
 */
async function trickle(servers: TestServer[], eventType: string, n: number, gapMs: number) {
  const started = Date.now();
  for (let i = 0; i < n; i++) {
    const server = servers[i % servers.length] as TestServer;
    const res = await server.gql(
      `mutation($input: PublishEventInput!) { publishEvent(input: $input) { id } }`,
      {
        input: { eventType, entityId: `e-${i}` },
      },
    );
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    if (i < n - 1) await sleep(gapMs);
  }
  return Date.now() - started;
}

/** The entity ids each request carried, in order ({"events": [...]} or a lone envelope). */
const idsOf = (receiver: Receiver) =>
  receiver.received.map((r) => (r.json?.events ?? [r.json]).map((e: any) => e?.entity?.id as string));

/** `spanMs`: how long the publishing took; one request a window over it, and one more. */
function assertWindows(receiver: Receiver, n: number, spanMs: number, what: string) {
  const requests = idsOf(receiver);
  const ids = requests.flat();
  assert.equal(ids.length, n, `${what}: every event once (${JSON.stringify(requests)})`);
  assert.equal(new Set(ids).size, n, `${what}: no event twice`);
  // 20 events over ~3 s with a 1 s window: about 4 requests, never one an event.
  const most = Math.floor(spanMs / THROTTLE_MS) + 2;
  assert.ok(most < n / 2, `${what}: publishing took ${spanMs} ms, too long to show grouping`);
  assert.ok(
    requests.length <= most,
    `${what}: ${requests.length} requests for ${n} events over ${spanMs} ms`,
  );
  const times = receiver.received.map((r) => r.receivedAt);
  for (let i = 1; i < times.length; i++) {
    const gap = (times[i] as number) - (times[i - 1] as number);
    assert.ok(gap >= THROTTLE_MS - TOLERANCE_MS, `${what}: requests ${i - 1} and ${i} were ${gap} ms apart`);
  }
  return requests;
}

for (const backend of backends()) {
  describe(`throttle window (${backend.name})`, () => {
    let server: TestServer;
    const receivers: Receiver[] = [];
    const servers: TestServer[] = [];

    before(async () => {
      server = await startServer(backend);
    });
    after(async () => {
      for (const s of servers) await s.stop();
      await server?.stop();
      for (const r of receivers) await r.close();
    });

    it('sends at most one request per window, with every event that arrived meanwhile, in order', async () => {
      const receiver = await startReceiver();
      receivers.push(receiver);
      const fifo = await startReceiver();
      receivers.push(fifo);
      for (const [r, isFifo] of [
        [receiver, false],
        [fifo, true],
      ] as const) {
        await createWebhook(server, {
          config: { endpoint: `${r.url}/throttled` },
          eventFilters: [{ eventTypes: ['windowed'] }],
          batchSize: 50,
          fifo: isFifo,
          retryPolicy: { throttleMs: THROTTLE_MS },
        });
      }
      const quietAt = Date.now();
      const span = await trickle([server], 'windowed', 20, 150);
      // The first event of a quiet webhook goes at once: the window opens with it.
      await receiver.waitForCount(1, 20_000);
      assert.ok(
        (receiver.received[0] as { receivedAt: number }).receivedAt - quietAt < THROTTLE_MS,
        'the first event waited for a window',
      );
      await receiver.waitFor((r) => idsOf({ received: r } as Receiver).flat().length >= 20, 30_000);
      await fifo.waitFor((r) => idsOf({ received: r } as Receiver).flat().length >= 20, 30_000);
      // Nothing more comes after the last window.
      await sleep(THROTTLE_MS + 300);
      assertWindows(receiver, 20, span, 'ordinary');
      const ordered = assertWindows(fifo, 20, span, 'FIFO').flat();
      assert.deepEqual(
        ordered,
        Array.from({ length: 20 }, (_, i) => `e-${i}`),
        'a FIFO webhook keeps publish order',
      );
    });

    if (backend.name === 'postgres') {
      it('holds across two dispatcher processes on one database', async () => {
        // A second server on the first one's database: two dispatchers claim the same queue.
        servers.push(await startServer(backend, {}, { connectVia: () => server.databaseUrl }));
        const receiver = await startReceiver();
        receivers.push(receiver);
        await createWebhook(server, {
          config: { endpoint: `${receiver.url}/shared` },
          eventFilters: [{ eventTypes: ['shared-window'] }],
          batchSize: 50,
          retryPolicy: { throttleMs: THROTTLE_MS },
        });
        const span = await trickle([server, ...servers], 'shared-window', 20, 150);
        await receiver.waitFor((r) => idsOf({ received: r } as Receiver).flat().length >= 20, 30_000);
        await sleep(THROTTLE_MS + 300);
        assertWindows(receiver, 20, span, 'two dispatchers');
      });
    }
  });
}
