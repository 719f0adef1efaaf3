import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWebhook } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { eventually, type Receiver, type Responder, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** The most receipts inside any window of `windowMs` (sliding, half-open). */
function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[i] as number) - (sorted[j] as number) >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/** Answers after `ms`, counting how many requests it holds at once. */
function slow(ms: number, answer: (n: number) => number = () => 200) {
  const state = { open: 0, most: 0 };
  const responder: Responder = async (_req, res, n) => {
    state.open++;
    state.most = Math.max(state.most, state.open);
    await new Promise((r) => setTimeout(r, ms));
    state.open--;
    res.writeHead(answer(n)).end();
  };
  return { state, responder };
}

const publishAll = async (server: TestServer, eventType: string, n: number) => {
  const res = await server.gql(
    `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`,
    {
      inputs: Array.from({ length: n }, (_, i) => ({ eventType, entityId: `e-${i}` })),
    },
  );
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
};

for (const backend of backends()) {
  describe(`per-webhook rate limit and FIFO (${backend.name})`, () => {
    let server: TestServer;
    const receivers: Receiver[] = [];
    const receiver = async (responder?: Responder) => {
      const r = await startReceiver(responder);
      receivers.push(r);
      return r;
    };

    before(async () => {
      server = await startServer(backend, { HOOKLINE_WEBHOOK_CONCURRENCY: '4' });
    });
    after(async () => {
      await server?.stop();
      for (const r of receivers) await r.close();
    });

    it('rejects a rate limit out of range with a coded error', async () => {
      const res = await server.gql(
        `mutation { createWebhook(input: { name: "too-fast", webhookType: GENERIC, rateLimit: 0,
           config: { endpoint: "https://example.com/h" } }) { id } }`,
      );
      assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.equal(res.errors?.[0]?.extensions?.field, 'rateLimit');
    });

    it('never starts more requests per second than the rate limit, while an unlimited webhook runs free', async () => {
      const limited = await receiver();
      const free = await receiver();
      const id = await createWebhook(server, {
        config: { endpoint: `${limited.url}/limited` },
        eventFilters: [{ eventTypes: ['paced'] }],
        rateLimit: 5,
      });
      await createWebhook(server, {
        config: { endpoint: `${free.url}/free` },
        eventFilters: [{ eventTypes: ['paced'] }],
      });
      const shown = await server.gql(`query($id: ID!) { webhook(id: $id) { rateLimit fifo } }`, { id });
      assert.deepEqual(shown.data.webhook, { rateLimit: 5, fifo: false });

      await publishAll(server, 'paced', 16);
      await free.waitForCount(16, 20_000);
      await limited.waitForCount(16, 30_000);
      // When each request started, as the dispatcher recorded it: the receiver runs in this
      // process too, so its own clock can bunch requests that the event loop held up.
      // The last answer reaches the receiver just before its attempt is recorded.
      const times = await eventually(async () => {
        const res = await server.gql(
          `query($id: ID!) { deliveries(webhookId: $id, first: 50) { edges { node { attempts { startedAt } } } } }`,
          { id },
        );
        const started: number[] = res.data.deliveries.edges.flatMap((e: any) =>
          e.node.attempts.map((a: any) => Date.parse(a.startedAt)),
        );
        return started.length === 16 ? started : undefined;
      });
      // Without the limit all 16 start within a few milliseconds (as the free webhook's did).
      assert.ok(
        busiestWindow(times, 1000) <= 6,
        `busiest second held ${busiestWindow(times, 1000)} requests`,
      );
      assert.ok(
        busiestWindow(
          free.received.map((r) => r.receivedAt),
          1000,
        ) > 6,
        'the free webhook was not paced',
      );
    });

    it('a FIFO webhook sends one request at a time in publish order, holding the rest while one retries', async () => {
      // The third event fails twice (500) before it is accepted.
      let failuresLeft = 2;
      const fifo = slow(30, () => 200);
      const ordered = await receiver(async (req, res, n) => {
        if (req.json?.entity?.id === 'e-2' && failuresLeft > 0) {
          failuresLeft--;
          res.writeHead(500).end();
          return;
        }
        await fifo.responder(req, res, n);
      });
      const { state, responder } = slow(30);
      const unordered = await receiver(responder);
      const fifoId = await createWebhook(server, {
        config: { endpoint: `${ordered.url}/fifo` },
        eventFilters: [{ eventTypes: ['ordered'] }],
        fifo: true,
        retryPolicy: { scheduleSeconds: [1, 1, 1] },
      });
      await createWebhook(server, {
        config: { endpoint: `${unordered.url}/any` },
        eventFilters: [{ eventTypes: ['ordered'] }],
      });
      await publishAll(server, 'ordered', 8);
      await unordered.waitForCount(8, 20_000);
      await ordered.waitForCount(10, 30_000);
      const sequence = ordered.received.map((r) => r.json?.entity?.id);
      assert.deepEqual(sequence, ['e-0', 'e-1', 'e-2', 'e-2', 'e-2', 'e-3', 'e-4', 'e-5', 'e-6', 'e-7']);
      assert.equal(fifo.state.most, 1, 'a FIFO webhook had more than one request open');
      // The same events to an ordinary webhook go out side by side.
      assert.ok(state.most > 1, 'the ordinary webhook never had two requests open');
      const hook = await server.gql(`query($id: ID!) { webhook(id: $id) { fifo status } }`, { id: fifoId });
      assert.deepEqual(hook.data.webhook, { fifo: true, status: 'ACTIVE' });
    });
  });
}
