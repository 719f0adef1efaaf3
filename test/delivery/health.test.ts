import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWebhook, deliveryWhen, publish } from '../helpers/api.js';
import { backends, postgresUrl } from '../helpers/db.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { startStatementCounter } from '../helpers/statements.js';

const HEALTH = `query($id: ID!) { webhook(id: $id) { health { since attempts failures successRate p95DurationMs } } }`;
const LIST = `query($first: Int!) { webhooks(first: $first) { edges { node { id health { attempts successRate p95DurationMs } } } } }`;

for (const backend of backends()) {
  describe(`Webhook.health, deliveries by time and an attempt's ids (${backend.name})`, () => {
    let server: TestServer;
    const receivers: Receiver[] = [];
    before(async () => {
      server = await startServer(backend);
    });
    after(async () => {
      await server?.stop();
      await Promise.all(receivers.map((r) => r.close()));
    });

    it('gives the success rate and p95 duration of the last hour, null without attempts', async () => {
      // Every fourth request fails (500, not retried); the others succeed.
      const r = await startReceiver((_req, res, n) => {
        res.writeHead(n % 4 === 3 ? 500 : 200, { 'content-type': 'text/plain' });
        res.end('.');
      });
      receivers.push(r);
      const id = await createWebhook(server, {
        config: { endpoint: `${r.url}/health` },
        eventFilters: [{ eventTypes: ['health.check'] }],
        retryPolicy: { scheduleSeconds: [] },
      });
      const empty = await server.gql(HEALTH, { id });
      assert.equal(empty.errors, undefined, JSON.stringify(empty.errors));
      assert.deepEqual(
        { ...empty.data.webhook.health, since: undefined },
        { since: undefined, attempts: 0, failures: 0, successRate: null, p95DurationMs: null },
      );
      const since = Date.parse(empty.data.webhook.health.since);
      assert.ok(Math.abs(Date.now() - 3600_000 - since) < 60_000, 'the window is the last hour');

      const published = [];
      for (let i = 0; i < 8; i++) published.push(await publish(server, { eventType: 'health.check' }));
      for (const e of published)
        await deliveryWhen(server, e.deliveries[0]!.id, (d) => d.completedAt !== null);
      const res = await server.gql(HEALTH, { id });
      const health = res.data.webhook.health;
      assert.equal(health.attempts, 8);
      assert.equal(health.failures, 2);
      assert.equal(health.successRate, 0.75);
      assert.equal(typeof health.p95DurationMs, 'number');
      assert.ok(health.p95DurationMs >= 0 && health.p95DurationMs < 10_000);
    });

    it('filters deliveries by creation time, [since, until), and refuses a range out of order', async () => {
      const r = await startReceiver();
      receivers.push(r);
      const id = await createWebhook(server, {
        config: { endpoint: `${r.url}/range` },
        eventFilters: [{ eventTypes: ['health.range'] }],
      });
      const first = await publish(server, { eventType: 'health.range' });
      await new Promise((r) => setTimeout(r, 50));
      const middle = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 50));
      const second = await publish(server, { eventType: 'health.range' });
      const query = `query($w: ID, $since: DateTime, $until: DateTime) {
        deliveries(webhookId: $w, since: $since, until: $until) { totalCount edges { node { id } } } }`;
      const ids = async (vars: Record<string, unknown>) => {
        const res = await server.gql(query, { w: id, ...vars });
        assert.equal(res.errors, undefined, JSON.stringify(res.errors));
        assert.equal(res.data.deliveries.totalCount, res.data.deliveries.edges.length);
        return res.data.deliveries.edges.map((e: { node: { id: string } }) => e.node.id);
      };
      assert.deepEqual(await ids({}), [second.deliveries[0]!.id, first.deliveries[0]!.id]);
      assert.deepEqual(await ids({ since: middle }), [second.deliveries[0]!.id]);
      assert.deepEqual(await ids({ until: middle }), [first.deliveries[0]!.id]);
      const bad = await server.gql(query, { w: id, since: middle, until: middle });
      assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.equal(bad.errors?.[0]?.extensions?.field, 'until');
    });

    it('gives an attempt its webhook and delivery ids without reading them', async () => {
      const r = await startReceiver();
      receivers.push(r);
      const id = await createWebhook(server, {
        config: { endpoint: `${r.url}/ids` },
        eventFilters: [{ eventTypes: ['health.ids'] }],
      });
      const { deliveries } = await publish(server, { eventType: 'health.ids' });
      const delivery = await deliveryWhen(server, deliveries[0]!.id, (d) => d.attempts.length === 1);
      const res = await server.gql(
        `query($id: ID!) { delivery(id: $id) { attempts { webhookId deliveryId webhook { id } delivery { id } } } }`,
        { id: delivery.id },
      );
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const [attempt] = res.data.delivery.attempts;
      assert.equal(attempt.webhookId, id);
      assert.equal(attempt.webhookId, attempt.webhook.id);
      assert.equal(attempt.deliveryId, delivery.id);
      assert.equal(attempt.deliveryId, attempt.delivery.id);
    });

    it('previews the request of a webhook before it is created, checked as createWebhook checks it', async () => {
      const PREVIEW = `query($w: CreateWebhookInput!, $e: PublishEventInput!) {
        previewNewWebhook(webhook: $w, event: $e) { url method headers body } }`;
      const count = async () => (await server.gql(`{ webhooks { totalCount } }`)).data.webhooks.totalCount;
      const before = await count();
      const webhook = {
        name: 'not-yet',
        webhookType: 'GENERIC',
        config: {
          endpoint: 'https://example.com/hooks',
          secretKey: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
          headers: [{ name: 'X-Api-Key', value: 'k-123', secret: true }],
        },
      };
      const res = await server.gql(PREVIEW, {
        w: webhook,
        e: { eventType: 'entityCreated', entityType: 'table', entityFqn: 'db.sales.orders' },
      });
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const p = res.data.previewNewWebhook;
      assert.equal(p.url, 'https://example.com/hooks');
      assert.equal(p.method, 'POST');
      assert.equal(p.headers['x-api-key'], '********');
      assert.equal(p.headers['webhook-signature'], 'v1,<signature computed at send time>');
      assert.equal(JSON.parse(p.body).entity.fullyQualifiedName, 'db.sales.orders');
      assert.doesNotMatch(res.text, /k-123|MfKQ9r8/);
      assert.equal(await count(), before, 'nothing is stored');

      const bad = await server.gql(PREVIEW, {
        w: { ...webhook, config: { endpoint: 'not a url' } },
        e: { eventType: 'entityCreated' },
      });
      assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.equal(bad.errors?.[0]?.extensions?.field, 'config.endpoint');
      const token = (await server.gql(`mutation { createApiToken(name: "dora", role: USER) }`)).data
        .createApiToken;
      const foreign = await server.gql(
        PREVIEW,
        { w: { ...webhook, owner: { type: 'user', name: 'someone-else' } }, e: { eventType: 'x' } },
        token,
      );
      assert.equal(foreign.errors?.[0]?.extensions?.field, 'owner');
    });

    it(
      'reads the health of 12 webhooks in as many statements as that of 3',
      {
        skip:
          backend.name === 'pglite'
            ? 'counts the statements sent to a PostgreSQL server; PGlite runs inside the process'
            : false,
      },
      async () => {
        const counter = await startStatementCounter(postgresUrl as string);
        const api = await startServer(backend, {}, { role: 'api', connectVia: counter.via });
        try {
          for (let i = 0; i < 12; i++) await createWebhook(api, { name: `health-${i}` });
          const statements = async (first: number) => {
            const before = counter.count();
            const res = await api.gql(LIST, { first });
            assert.equal(res.errors, undefined, JSON.stringify(res.errors));
            assert.equal(res.data.webhooks.edges.length, first);
            return counter.count() - before;
          };
          await statements(12);
          const few = await statements(3);
          const many = await statements(12);
          assert.equal(many, few, `${few} statements for 3 webhooks, ${many} for 12`);
        } finally {
          await api.stop();
          await counter.close();
        }
      },
    );
  });
}
