import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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

/** A sample of the text (the parser keeps no labels of a histogram's series), 0 when absent. */
const sample = async (url: string, name: string, labels: string): Promise<number> => {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return Number(line?.split(' ')[1] ?? 0);
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
      const webhook = await createWebhook(server, {
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
          attempts?.metrics.find(
            (x) =>
              x.labels?.webhook === webhook && x.labels?.status === status && x.labels?.error_kind === kind,
          )?.value ?? 0,
        );
      assert.equal(count('SUCCEEDED', 'none'), 5);
      assert.equal(count('AWAITING_RETRY', 'HTTP_STATUS'), 1);
      const duration = m.get('hookline_delivery_attempt_duration_seconds');
      assert.equal(duration?.type, 'HISTOGRAM');
      const observed = (status: string) =>
        sample(
          server.url,
          'hookline_delivery_attempt_duration_seconds_count',
          `webhook="${webhook}",status="${status}"`,
        );
      assert.equal(
        (await observed('SUCCEEDED')) + (await observed('AWAITING_RETRY')),
        6,
        'one observation per request',
      );
      assert.equal(Number(m.get('hookline_queue_due')?.metrics[0]?.value), 0);
      assert.equal(Number(m.get('hookline_queue_in_flight')?.metrics[0]?.value), 0);
      assert.equal(Number(m.get('hookline_open_subscriptions')?.metrics[0]?.value), 0);
      assert.equal(Number(m.get('hookline_db_up')?.metrics[0]?.value), 1);
      assert.ok(Number(m.get('hookline_db_pool_max')?.metrics[0]?.value) >= 1);
    });

    it("has Node.js's default metrics under their standard names", async () => {
      const m = await families(server.url);
      for (const name of [
        'process_resident_memory_bytes',
        'process_cpu_seconds_total',
        'nodejs_heap_size_used_bytes',
        'nodejs_eventloop_lag_p99_seconds',
      ]) {
        assert.ok(m.has(name), `${name} is missing`);
      }
      assert.deepEqual(
        [...m.keys()].filter((name) => /^hookline_(process|nodejs)_/.test(name)),
        [],
      );
    });

    it('counts and times GraphQL operations by name, type and outcome', async () => {
      const before = await families(server.url);
      const series = (m: Map<string, Family>, name: string, type: string, outcome: string) =>
        m
          .get('hookline_graphql_operations_total')
          ?.metrics.find(
            (x) =>
              x.labels?.operation_name === name &&
              x.labels?.operation_type === type &&
              x.labels?.outcome === outcome,
          );
      const added = async (name: string, type: string, outcome: string) => {
        const after = await families(server.url);
        const was = Number(series(before, name, type, outcome)?.value ?? 0);
        return Number(series(after, name, type, outcome)?.value ?? 0) - was;
      };
      await server.gql('query Whoami { me { role } }');
      await server.gql('query Whoami { me { role } }');
      await server.gql('{ me { role } }');
      await server.gql('query Lookup($id: ID!) { webhook(id: $id) { id } }', { id: 'not-an-id' });
      const invalid = await server.gql('query Invented { invented }');
      assert.equal(invalid.status, 400);
      assert.deepEqual(
        [
          await added('Whoami', 'query', 'ok'),
          await added('(anonymous)', 'query', 'ok'),
          await added('Lookup', 'query', 'error'),
          // A document that does not validate is never executed, and its name never a label.
          await added('(rejected)', '(unknown)', 'rejected'),
        ],
        [2, 1, 1, 1],
      );
      const after = await families(server.url);
      assert.equal(series(after, 'Invented', '(unknown)', 'rejected'), undefined);
      assert.equal(after.get('hookline_graphql_operation_duration_seconds')?.type, 'HISTOGRAM');
      const timed = await sample(
        server.url,
        'hookline_graphql_operation_duration_seconds_count',
        'operation_name="Whoami",operation_type="query",outcome="ok"',
      );
      assert.equal(timed, Number(series(after, 'Whoami', 'query', 'ok')?.value));
    });

    it('has every metric the Grafana dashboard in docs/ queries', async () => {
      const dashboard = readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8');
      const names = new Set(
        [...dashboard.matchAll(/\b((?:hookline|process|nodejs)_[a-z0-9_]+)/g)].map((m) =>
          (m[1] as string).replace(/_bucket$/, ''),
        ),
      );
      assert.ok(names.size >= 10);
      const m = await families(server.url);
      assert.deepEqual(
        [...names].filter((name) => !m.has(name)),
        [],
      );
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

describe('/metrics label limits', () => {
  const [backend] = backends();
  let server: TestServer;
  let receiver: Receiver;
  before(async () => {
    server = await startServer(backend!, {
      HOOKLINE_METRICS_OPERATION_NAMES: '2',
      HOOKLINE_METRICS_WEBHOOKS: '1',
    });
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver?.close();
    await server?.stop();
  });

  it('gives the first HOOKLINE_METRICS_OPERATION_NAMES names a series each, and the rest "(other)"', async () => {
    for (const name of ['First', 'Second', 'Third', 'Fourth', 'First'])
      await server.gql(`query ${name} { me { role } }`);
    const ops = (await families(server.url)).get('hookline_graphql_operations_total');
    const count = (name: string) =>
      Number(ops?.metrics.find((x) => x.labels?.operation_name === name)?.value ?? 0);
    assert.deepEqual(
      [count('First'), count('Second'), count('Third'), count('Fourth'), count('(other)')],
      [2, 1, 0, 0, 2],
    );
  });

  it('gives the first HOOKLINE_METRICS_WEBHOOKS webhooks a series each, and the rest "(other)"', async () => {
    const ids: string[] = [];
    for (const n of [1, 2]) {
      ids.push(
        await createWebhook(server, {
          config: { endpoint: `${receiver.url}/w${n}` },
          eventFilters: [{ eventTypes: [`limited.${n}`] }],
        }),
      );
    }
    for (const n of [1, 2]) {
      const res = await server.gql(
        `mutation($input: PublishEventInput!) { publishEvent(input: $input) { deliveries { id } } }`,
        { input: { eventType: `limited.${n}` } },
      );
      await deliveryWhen(server, res.data.publishEvent.deliveries[0].id, (d) => d.status === 'SUCCEEDED');
    }
    const attempts = (await families(server.url)).get('hookline_delivery_attempts_total');
    const webhooks = new Set(attempts?.metrics.map((x) => x.labels?.webhook));
    assert.deepEqual([...webhooks].sort(), [ids[0], '(other)'].sort());
  });
});
