import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  clusterEnv,
  deliveryStatuses,
  failedAttempts,
  type Node,
  publishMany,
  startNode,
  unfinishedDeliveries,
} from '../helpers/cluster.js';
import { backends } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { eventually, type Receiver, startReceiver } from '../helpers/receiver.js';
import { gqlRequest } from '../helpers/server.js';

const postgres = backends().find((b) => b.name === 'postgres');
const PER_WEBHOOK = 4;

const createWebhook = async (url: string, overrides: Record<string, unknown>) => {
  const res = await gqlRequest<any>(
    url,
    `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`,
    {
      input: makeWebhookInput(overrides),
    },
  );
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
  return res.data.createWebhook.id as string;
};

describe(
  'faults survived (postgres, separate processes)',
  {
    skip:
      !postgres &&
      'needs TEST_DATABASE_URL: the fault scenarios run Hookline processes on a shared PostgreSQL',
  },
  () => {
    let database: { url: string; drop(): Promise<void> };
    const receivers: Receiver[] = [];
    // A test that fails leaves its process running: stopped here, so that it cannot claim the
    // next test's deliveries.
    const nodes: Node[] = [];
    const started = async (env: Record<string, string>): Promise<Node> => {
      const node = await startNode('all', env);
      nodes.push(node);
      return node;
    };
    before(async () => {
      database = await (postgres as NonNullable<typeof postgres>).create();
    });
    after(async () => {
      for (const n of nodes) await n.process.kill('SIGKILL');
      for (const r of receivers) await r.close();
      await database?.drop();
    });

    it('SIGKILL at three random points of a 2,000-event run: every event delivered, duplicates only of what was in flight', async () => {
      const receiver = await startReceiver(async (_req, res) => {
        await new Promise((r) => setTimeout(r, 5));
        res.end('ok');
      });
      receivers.push(receiver);
      const env = clusterEnv(database.url, { HOOKLINE_WEBHOOK_CONCURRENCY: String(PER_WEBHOOK) });
      let node = await started(env);
      await createWebhook(node.url, {
        config: { endpoint: `${receiver.url}/kill`, timeoutMs: 1000 },
        eventFilters: [{ eventTypes: ['kill'] }],
        // A request that times out on a loaded machine is tried again within seconds, not the
        // default minute: the run is about kills, not about the retry schedule.
        retryPolicy: { scheduleSeconds: [1, 1, 2, 2, 5, 5, 5] },
      });
      const events = await publishMany(
        node.url,
        Array.from({ length: 2000 }, (_, i) => ({ eventType: 'kill', entityId: `k-${i}` })),
      );
      // In flight at a kill: claimed by the killed process and not yet recorded.
      const inFlightAtKills: number[] = [];
      for (const share of [
        0.15 + Math.random() * 0.1,
        0.45 + Math.random() * 0.1,
        0.75 + Math.random() * 0.1,
      ]) {
        await receiver.waitForCount(Math.floor(share * 2000), 60_000);
        node.process.child.kill('SIGKILL');
        await node.process.exited;
        inFlightAtKills.push((await deliveryStatuses(database.url)).IN_FLIGHT ?? 0);
        node = await started(env);
      }
      const delivered = () => new Set(receiver.received.map((r) => r.json?.eventId));
      await receiver.waitFor(() => events.every((id) => delivered().has(id)), 90_000);
      await eventually(
        async () => ((await deliveryStatuses(database.url)).SUCCEEDED === 2000 ? true : undefined),
        30_000,
        'every delivery SUCCEEDED',
      ).catch(async (error) => {
        throw new Error(`${error.message}; not yet: ${await unfinishedDeliveries(database.url)}`);
      });
      // A duplicate is a request whose answer was never recorded: in flight at a kill, or one
      // that failed (timed out) after the receiver had it.
      const duplicates = receiver.received.length - delivered().size;
      const failed = await failedAttempts(database.url);
      const bound = inFlightAtKills.reduce((x, y) => x + y, 0) + failed;
      assert.ok(
        duplicates <= bound,
        `${duplicates} duplicates; in flight at the kills: ${inFlightAtKills.join(', ')}; failed attempts: ${failed}`,
      );
      assert.equal(await node.process.kill('SIGTERM'), 0);
    });

    it('a process killed while sending what it was just published: the delivery waits out its lease, then another process sends it', async () => {
      let hold = true;
      const held: ServerResponse[] = [];
      const receiver = await startReceiver((_req, res) => {
        if (hold) held.push(res);
        else res.end('ok');
      });
      receivers.push(receiver);
      const env = clusterEnv(database.url, { HOOKLINE_LEASE_MARGIN_MS: '500' });
      const publisher = await started(env);
      await createWebhook(publisher.url, {
        config: { endpoint: `${receiver.url}/handoff`, timeoutMs: 1000 },
        eventFilters: [{ eventTypes: ['handoff'] }],
      });
      const res = await gqlRequest<any>(
        publisher.url,
        `mutation { publishEvent(input: { eventType: "handoff" }) { id deliveries { id status } } }`,
      );
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      // Handed to the publishing process's dispatcher as it was stored: no claim round first.
      const [delivery] = res.data.publishEvent.deliveries;
      assert.equal(delivery.status, 'IN_FLIGHT');
      await receiver.waitForCount(1);
      publisher.process.child.kill('SIGKILL');
      await publisher.process.exited;
      hold = false;

      const other = await started(env);
      const status = () =>
        gqlRequest<any>(other.url, `query($id: ID!) { delivery(id: $id) { status attemptCount } }`, {
          id: delivery.id,
        }).then((r) => r.data?.delivery);
      await eventually(
        async () => ((await status())?.status === 'SUCCEEDED' ? true : undefined),
        30_000,
        "the killed process's delivery sent by the other one",
      );
      assert.equal(receiver.received.length, 2, 'sent again once: the first answer was never recorded');
      assert.equal(receiver.received[1]?.json.eventId, res.data.publishEvent.id);
      assert.deepEqual(await status(), { status: 'SUCCEEDED', attemptCount: 1 });
      for (const r of held) r.destroy();
      assert.equal(await other.process.kill('SIGTERM'), 0);
    });

    it('a testWebhook in flight in one process is a CONFLICT in another; killed, its test waits out its lease, then the webhook can be tested again', async () => {
      let hold = true;
      const held: ServerResponse[] = [];
      const receiver = await startReceiver((_req, res) => {
        if (hold) held.push(res);
        else res.end('ok');
      });
      receivers.push(receiver);
      const env = clusterEnv(database.url, { HOOKLINE_LEASE_MARGIN_MS: '500' });
      const [a, b] = [await started(env), await started(env)];
      // Disabled, so that no dispatcher takes the killed process's test over once its lease
      // has run out: what is left to see is whether that lease still blocks the next test.
      const webhookId = await createWebhook(a.url, {
        enabled: false,
        config: { endpoint: `${receiver.url}/tested`, timeoutMs: 5000 },
        eventFilters: [{ eventTypes: ['x'] }],
      });
      const TEST = `mutation($id: ID!) { testWebhook(id: $id) { id status } }`;
      const first = gqlRequest<any>(a.url, TEST, { id: webhookId });
      first.catch(() => {});
      await receiver.waitForCount(1);
      const refused = await gqlRequest<any>(b.url, TEST, { id: webhookId });
      assert.equal(refused.errors?.[0]?.extensions?.code, 'CONFLICT', JSON.stringify(refused));
      assert.equal(refused.errors?.[0]?.extensions?.field, 'id');
      a.process.child.kill('SIGKILL');
      await a.process.exited;
      assert.equal(receiver.received.length, 1, 'the refused test sent nothing');

      hold = false;
      const sent = await eventually(
        async () => {
          const res = await gqlRequest<any>(b.url, TEST, { id: webhookId });
          if (res.errors?.[0]?.extensions?.code === 'CONFLICT') return undefined;
          return res;
        },
        30_000,
        "the killed process's test lease to run out",
      );
      assert.equal(sent.errors, undefined, JSON.stringify(sent.errors));
      assert.equal(sent.data.testWebhook.status, 'SUCCEEDED');
      assert.equal(receiver.received.length, 2);
      const left = await gqlRequest<any>(
        b.url,
        `query($w: ID!) { deliveries(webhookId: $w) { edges { node { status } } } webhook(id: $w) { status } }`,
        { w: webhookId },
      );
      assert.deepEqual(
        left.data.deliveries.edges.map((e: { node: { status: string } }) => e.node.status).sort(),
        ['IN_FLIGHT', 'SUCCEEDED'],
        "the killed process's test is still IN_FLIGHT: its lease ran out, it was not finished",
      );
      assert.equal(left.data.webhook.status, 'DISABLED');
      for (const r of held) r.destroy();
      // The tests after this one count the database's IN_FLIGHT deliveries: the killed test's
      // goes with its webhook.
      const removed = await gqlRequest<any>(
        b.url,
        `mutation($id: ID!) { deleteWebhook(id: $id, hard: true) }`,
        {
          id: webhookId,
        },
      );
      assert.equal(removed.errors, undefined, JSON.stringify(removed.errors));
      assert.equal(await b.process.kill('SIGTERM'), 0);
    });

    it('a receiver down for 20 s gets everything once it is back (short retry schedule)', async () => {
      const probe = await startReceiver();
      const port = Number(new URL(probe.url).port);
      await probe.close();
      const node = await started(clusterEnv(database.url));
      const id = await createWebhook(node.url, {
        config: { endpoint: `http://127.0.0.1:${port}/down`, timeoutMs: 1000 },
        eventFilters: [{ eventTypes: ['down'] }],
        retryPolicy: { scheduleSeconds: [1, 2, 3, 5, 5, 5, 5, 5, 5] },
      });
      const events = await publishMany(
        node.url,
        Array.from({ length: 50 }, () => ({ eventType: 'down' })),
      );
      await new Promise((r) => setTimeout(r, 20_000));
      const during = await gqlRequest<any>(node.url, `query($id: ID!) { webhook(id: $id) { status } }`, {
        id,
      });
      assert.equal(during.data.webhook.status, 'AWAITING_RETRY');
      const back = await startReceiver(undefined, port);
      receivers.push(back);
      await back.waitFor((r) => events.every((e) => r.some((x) => x.json?.eventId === e)), 30_000);
      await eventually(async () => {
        const res = await gqlRequest<any>(
          node.url,
          `query($id: ID!) { deliveries(webhookId: $id, status: [SUCCEEDED]) { totalCount } webhook(id: $id) { status } }`,
          { id },
        );
        return res.data.deliveries.totalCount === 50 && res.data.webhook.status === 'ACTIVE'
          ? true
          : undefined;
      });
      assert.equal(await node.process.kill('SIGTERM'), 0);
    });

    it('SIGTERM with 100 slow deliveries in flight: past the grace period they are given back, none lost, none left IN_FLIGHT', async () => {
      let hold = 4000;
      const slow = await startReceiver(async (_req, res) => {
        await new Promise((r) => setTimeout(r, hold));
        res.end('ok');
      });
      receivers.push(slow);
      const env = clusterEnv(database.url, {
        HOOKLINE_WEBHOOK_CONCURRENCY: '100',
        HOOKLINE_DISPATCH_CONCURRENCY: '200',
        HOOKLINE_SHUTDOWN_GRACE_MS: '1000',
      });
      let node = await started(env);
      await createWebhook(node.url, {
        config: { endpoint: `${slow.url}/slow`, timeoutMs: 10_000 },
        eventFilters: [{ eventTypes: ['slow'] }],
        retryPolicy: { scheduleSeconds: [1, 1, 1] },
      });
      const before = await deliveryStatuses(database.url);
      const added = (now: Record<string, number>, status: string) =>
        (now[status] ?? 0) - (before[status] ?? 0);
      await publishMany(
        node.url,
        Array.from({ length: 100 }, () => ({ eventType: 'slow' })),
      );
      await slow.waitForCount(100, 20_000);
      assert.equal(await node.process.kill('SIGTERM'), 0);
      const stopped = await deliveryStatuses(database.url);
      assert.equal(stopped.IN_FLIGHT ?? 0, 0);
      const released = Number(
        /"released":(\d+),"msg":"gave back deliveries still in flight"/.exec(node.process.stdout())?.[1],
      );
      assert.equal(added(stopped, 'PENDING'), released);
      // All are given back, except a request that failed outright (a refused connection on a
      // busy machine): that one is recorded as a failure awaiting its retry.
      assert.equal(released + added(stopped, 'AWAITING_RETRY'), 100);
      assert.ok(released >= 90, `${released} given back`);

      // Started again, it sends them; within the grace period a stop lets requests finish.
      hold = 300;
      env.HOOKLINE_SHUTDOWN_GRACE_MS = '10000';
      node = await started(env);
      await eventually(
        async () => (added(await deliveryStatuses(database.url), 'SUCCEEDED') === 100 ? true : undefined),
        30_000,
        'the 100 given back to be delivered',
      );
      const sent = slow.received.length;
      await publishMany(
        node.url,
        Array.from({ length: 100 }, () => ({ eventType: 'slow' })),
      );
      await slow.waitForCount(sent + 90, 30_000);
      assert.equal(await node.process.kill('SIGTERM'), 0);
      assert.doesNotMatch(node.process.stdout(), /gave back deliveries/);
      const done = await deliveryStatuses(database.url);
      assert.equal(done.IN_FLIGHT ?? 0, 0);
      assert.equal(added(done, 'SUCCEEDED') + added(done, 'AWAITING_RETRY'), 200);
    });
  },
);
