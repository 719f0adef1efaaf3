import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
// @ts-expect-error the package ships no types
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { clusterEnv, clusterFixture, deliveryStatuses, publishMany } from '../helpers/cluster.js';
import { backends } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { collect, subscriptionsOpen, wsClient } from '../helpers/live.js';
import { eventually } from '../helpers/receiver.js';
import { gqlRequest } from '../helpers/server.js';

const postgres = backends().find((b) => b.name === 'postgres');
const EVENTS = 5000;
const WEBHOOKS = 10;
const SECRET = 'whsec_c2NhbGUtb3V0LXNlY3JldC1uZXZlci1sb2dnZWQ=';

/** hookline_delivery_attempts_total{status} of one process's /metrics. */
async function attemptsCounted(url: string, status: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const families = (parsePrometheusTextFormat as (t: string) => any[])(text);
  const attempts = families.find((f) => f.name === 'hookline_delivery_attempts_total');
  return (attempts?.metrics ?? [])
    .filter((m: any) => m.labels?.status === status)
    .reduce((sum: number, m: any) => sum + Number(m.value), 0);
}

describe(
  'three workers and one API process on one PostgreSQL',
  { skip: !postgres && 'needs TEST_DATABASE_URL: several processes share one PostgreSQL' },
  () => {
    const cluster = clusterFixture(postgres);
    const { nodes } = cluster;

    it('5,000 events: each delivered exactly once, every attempt streamed live from the API process, metrics and logs agree', async () => {
      const env = clusterEnv(cluster.databaseUrl, { HOOKLINE_LEASE_MARGIN_MS: '15000' });
      const { receiver } = cluster;
      // Three workers send faster than one subscriber takes messages in (about 100 a second
      // here, each one executed as GraphQL), so the burst needs a buffer that holds it all.
      const api = await cluster.start('api', { ...env, HOOKLINE_SUBSCRIBER_BUFFER: String(EVENTS) });
      // Workers log every attempt (debug), to show the ids they carry and that no secret leaks.
      for (let i = 0; i < 3; i++) await cluster.start('worker', { ...env, LOG_LEVEL: 'debug' });
      const workers = nodes.slice(1);

      for (let i = 0; i < WEBHOOKS; i++) {
        const res = await gqlRequest<any>(
          api.url,
          `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`,
          {
            input: makeWebhookInput({
              config: { endpoint: `${receiver.url}/w${i}`, secretKey: SECRET },
              eventFilters: [{ eventTypes: ['scale'], entities: [`t${i}`] }],
            }),
          },
        );
        assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      }
      const client = wsClient(api.url);
      const logs = collect(client, `subscription { deliveryLogs { status delivery { id } } }`);
      await subscriptionsOpen(api.url, 1);

      const events = await publishMany(
        api.url,
        Array.from({ length: EVENTS }, (_, i) => ({ eventType: 'scale', entityType: `t${i % WEBHOOKS}` })),
      );
      assert.equal(events.length, EVENTS);
      await receiver.waitForCount(EVENTS, 120_000);
      await eventually(
        async () => (logs.items.length >= EVENTS ? true : undefined),
        60_000,
        `${EVENTS} live log entries (${logs.items.length} so far; ${JSON.stringify(logs.errors).slice(0, 300)})`,
      );
      // A moment for anything sent twice to arrive.
      await new Promise((r) => setTimeout(r, 500));

      const perDelivery = new Map<string, number>();
      for (const r of receiver.received) {
        const id = r.headers['webhook-id'] as string;
        perDelivery.set(id, (perDelivery.get(id) ?? 0) + 1);
      }
      assert.equal(perDelivery.size, EVENTS);
      assert.deepEqual(
        [...perDelivery].filter(([, n]) => n > 1),
        [],
        'deliveries sent more than once',
      );
      assert.deepEqual(new Set(receiver.received.map((r) => r.json?.eventId)).size, EVENTS);

      assert.equal(logs.errors.length, 0, JSON.stringify(logs.errors));
      assert.equal(logs.items.length, EVENTS);
      const logged = new Set(logs.items.map((i: any) => i.deliveryLogs.delivery.id));
      assert.deepEqual(
        [...perDelivery.keys()].filter((id) => !logged.has(id)),
        [],
      );
      assert.ok(logs.items.every((i: any) => i.deliveryLogs.status === 'SUCCEEDED'));
      logs.stop();
      await client.dispose();

      assert.deepEqual(await deliveryStatuses(cluster.databaseUrl), { SUCCEEDED: EVENTS });
      const counted = await Promise.all(workers.map((w) => attemptsCounted(w.url, 'SUCCEEDED')));
      assert.equal(
        counted.reduce((a, b) => a + b, 0),
        EVENTS,
        `attempts counted by the workers: ${counted}`,
      );
      assert.ok(counted.filter((n) => n > 0).length >= 2, `the queue was shared: ${counted}`);
      assert.equal(await attemptsCounted(api.url, 'SUCCEEDED'), 0, 'the API process sends nothing');

      const lines = workers.flatMap((w) => w.process.stdout().split('\n').filter(Boolean));
      const attemptLog = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'delivery attempt');
      assert.match(attemptLog?.webhookId ?? '', /^wh_/);
      assert.match(attemptLog?.deliveryIds?.[0] ?? '', /^dlv_/);
      const everything = nodes.map((n) => n.process.stdout() + n.process.stderr()).join('\n');
      assert.ok(
        !everything.includes(SECRET) && !everything.includes(SECRET.slice(6)),
        'a secret reached a log',
      );

      for (const n of nodes.splice(0)) assert.equal(await n.process.kill('SIGTERM'), 0);
    });
  },
);
