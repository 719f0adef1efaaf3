import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
// @ts-expect-error the package ships no types
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { createWebhook, deliveryWhen } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { type Receiver, startReceiver, statuses } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

interface Family {
  name: string;
  type: string;
  metrics: {
    value?: string;
    labels?: Record<string, string>;
    buckets?: Record<string, string>;
    count?: string;
  }[];
}

const families = async (url: string): Promise<Map<string, Family>> => {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  const parsed = (parsePrometheusTextFormat as (text: string) => Family[])(await res.text());
  return new Map(parsed.map((f) => [f.name, f]));
};

for (const backend of backends()) {
  describe(`/metrics (${backend.name})`, () => {
    let server: TestServer;
    let receiver: Receiver;
    before(async () => {
      server = await startServer(backend);
      receiver = await startReceiver(statuses(500, 200, 200, 200, 200, 200));
    });
    after(async () => {
      await receiver?.close();
      await server?.stop();
    });

    it('parses as Prometheus text, and its counters match the deliveries made', async () => {
      await createWebhook(server, {
        config: { endpoint: `${receiver.url}/m` },
        retryPolicy: { scheduleSeconds: [1] },
        eventFilters: [{ eventTypes: ['metered'] }],
      });
      const res = await server.gql(
        `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { deliveries { id } } }`,
        {
          inputs: Array.from({ length: 5 }, () => ({ eventType: 'metered' })),
        },
      );
      const ids: string[] = res.data.publishEvents.map((e: any) => e.deliveries[0].id);
      for (const id of ids) await deliveryWhen(server, id, (d) => d.status === 'SUCCEEDED');

      const m = await families(server.url);
      const attempts = m.get('hookline_delivery_attempts_total');
      assert.equal(attempts?.type, 'COUNTER');
      const count = (status: string, kind: string) =>
        Number(
          attempts?.metrics.find((x) => x.labels?.status === status && x.labels?.error_kind === kind)
            ?.value ?? 0,
        );
      assert.equal(count('SUCCEEDED', 'none'), 5);
      assert.equal(count('AWAITING_RETRY', 'HTTP_STATUS'), 1);
      const duration = m.get('hookline_delivery_attempt_duration_seconds');
      assert.equal(duration?.type, 'HISTOGRAM');
      assert.equal(Number(duration?.metrics[0]?.count), 6, 'one observation per request');
      assert.equal(Number(m.get('hookline_queue_due')?.metrics[0]?.value), 0);
      assert.equal(Number(m.get('hookline_queue_in_flight')?.metrics[0]?.value), 0);
      assert.equal(Number(m.get('hookline_open_subscriptions')?.metrics[0]?.value), 0);
      assert.equal(Number(m.get('hookline_db_up')?.metrics[0]?.value), 1);
      assert.ok(Number(m.get('hookline_db_pool_max')?.metrics[0]?.value) >= 1);
      assert.ok(m.has('hookline_process_resident_memory_bytes'));
    });

    it('counts the SQL statements sent to PostgreSQL (PGlite: none)', async () => {
      const sent = async () =>
        Number((await families(server.url)).get('hookline_db_statements_total')?.metrics[0]?.value);
      const before = await sent();
      const res = await server.gql(`{ webhooks(first: 5) { edges { node { id } } } }`);
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const after = await sent();
      if (backend.name === 'pglite') assert.equal(after, 0);
      // The page, at least; the dispatcher's poll may add its own.
      else assert.ok(after - before >= 1, `${after - before} statements for a page of webhooks`);
    });
  });
}
