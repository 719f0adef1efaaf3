import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id version
  eventFilters { eventTypes where { path op value } } } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) {
  version changeDescription { fieldsUpdated { name oldValue newValue } } } }`;
const READ = `query($id: ID!) { webhook(id: $id) { version eventFilters { where { path op value } } } }`;
const COUNT = `{ webhooks(first: 0, filter: { includeDeleted: true }) { totalCount } }`;
const PUBLISH = `mutation($input: PublishEventInput!) { publishEvent(input: $input) {
  id deliveries { webhook { id } } } }`;

type Json = Record<string, unknown>;

/**
 * One shared scenario, one row per operator (and per rule around missing fields): a webhook
 * whose only filter is the row's own event type plus `where`, an event that matches and one
 * that does not. `match` and `miss` are the event's fields beside its type.
 */
interface Row {
  name: string;
  where: Json[];
  match: Json;
  miss: Json;
}

const rows: Row[] = [
  {
    name: 'EQ on a nested data path',
    where: [{ path: 'data.order.status', op: 'EQ', value: 'paid' }],
    match: { data: { order: { status: 'paid' } } },
    miss: { data: { order: { status: 'open' } } },
  },
  {
    name: 'EQ is typed: the number 5 is not the string "5"',
    where: [{ path: 'data.n', op: 'EQ', value: 5 }],
    match: { data: { n: 5 } },
    miss: { data: { n: '5' } },
  },
  {
    name: 'EQ on a missing field does not hold',
    where: [{ path: 'cluster', op: 'EQ', value: 'prod' }],
    match: { cluster: 'prod' },
    miss: {},
  },
  {
    name: 'NE on an event field',
    where: [{ path: 'cluster', op: 'NE', value: 'prod' }],
    match: { cluster: 'dev' },
    miss: { cluster: 'prod' },
  },
  {
    name: 'NE holds when the field is missing',
    where: [{ path: 'data.region', op: 'NE', value: 'eu' }],
    match: { data: { other: 1 } },
    miss: { data: { region: 'eu' } },
  },
  {
    name: 'IN on the entity type',
    where: [{ path: 'entityType', op: 'IN', value: ['table', 'topic'] }],
    match: { entityType: 'topic' },
    miss: { entityType: 'dashboard' },
  },
  {
    name: 'NOT_IN on a data path',
    where: [{ path: 'data.region', op: 'NOT_IN', value: ['eu', 'us'] }],
    match: { data: { region: 'apac' } },
    miss: { data: { region: 'us' } },
  },
  {
    name: 'NOT_IN holds when the field is missing',
    where: [{ path: 'namespace', op: 'NOT_IN', value: ['kube-system'] }],
    match: {},
    miss: { namespace: 'kube-system' },
  },
  {
    name: 'PREFIX on the FQN',
    where: [{ path: 'entityFqn', op: 'PREFIX', value: 'snowflake_prod.sales.' }],
    match: { entityFqn: 'snowflake_prod.sales.public.customers' },
    miss: { entityFqn: 'snowflake_prod.hr.public.staff' },
  },
  {
    name: 'GT',
    where: [{ path: 'data.order.total', op: 'GT', value: 100 }],
    match: { data: { order: { total: 150.5 } } },
    miss: { data: { order: { total: 100 } } },
  },
  {
    name: 'GTE',
    where: [{ path: 'data.order.total', op: 'GTE', value: 100 }],
    match: { data: { order: { total: 100 } } },
    miss: { data: { order: { total: 99.99 } } },
  },
  {
    name: 'LT, three levels deep',
    where: [{ path: 'data.metrics.latency.p99', op: 'LT', value: 250 }],
    match: { data: { metrics: { latency: { p99: 120 } } } },
    miss: { data: { metrics: { latency: { p99: 250 } } } },
  },
  {
    name: 'LTE compares numbers only: a numeric string does not hold',
    where: [{ path: 'data.n', op: 'LTE', value: 0 }],
    match: { data: { n: -1 } },
    miss: { data: { n: '-1' } },
  },
  {
    name: 'GT on a missing field does not hold',
    where: [{ path: 'data.score', op: 'GT', value: 0 }],
    match: { data: { score: 1 } },
    miss: { data: {} },
  },
  {
    name: 'EXISTS without a value: present and not null',
    where: [{ path: 'data.order.coupon', op: 'EXISTS' }],
    match: { data: { order: { coupon: 'WINTER' } } },
    miss: { data: { order: { coupon: null } } },
  },
  {
    name: 'EXISTS false on the actor',
    where: [{ path: 'actor.name', op: 'EXISTS', value: false }],
    match: {},
    miss: { actor: { name: 'john.doe' } },
  },
  {
    name: 'EQ on the level',
    where: [{ path: 'level', op: 'EQ', value: 'WARN' }],
    match: { level: 'WARN' },
    miss: { level: 'INFO' },
  },
  {
    name: 'every condition must hold (AND)',
    where: [
      { path: 'namespace', op: 'EQ', value: 'payments' },
      { path: 'data.amount', op: 'GTE', value: 10 },
    ],
    match: { namespace: 'payments', data: { amount: 10 } },
    miss: { namespace: 'payments', data: { amount: 9 } },
  },
  {
    name: 'a path through a built-in name finds nothing',
    where: [{ path: 'data.constructor', op: 'EXISTS', value: false }],
    match: { data: {} },
    miss: { data: { constructor: 'x' } },
  },
];

/** Inputs for `where` that must be refused, with the field the error must name. */
const refusals: [string, unknown, string][] = [
  ['an unknown event field', [{ path: 'entityId', op: 'EQ', value: 'x' }], 'where.0.path'],
  ['a path outside data', [{ path: 'payload.x', op: 'EQ', value: 'x' }], 'where.0.path'],
  ['an empty data segment', [{ path: 'data.a..b', op: 'EXISTS' }], 'where.0.path'],
  ['data alone', [{ path: 'data.', op: 'EXISTS' }], 'where.0.path'],
  ['a data path 11 deep', [{ path: `data.${'a.'.repeat(10)}a`, op: 'EXISTS' }], 'where.0.path'],
  ['a path of 257 characters', [{ path: `data.${'a'.repeat(252)}`, op: 'EXISTS' }], 'where.0.path'],
  ['EQ without a value', [{ path: 'cluster', op: 'EQ' }], 'where.0.value'],
  ['EQ with an object', [{ path: 'cluster', op: 'EQ', value: { a: 1 } }], 'where.0.value'],
  [
    'IN with a string, second condition',
    [
      { path: 'cluster', op: 'EXISTS' },
      { path: 'cluster', op: 'IN', value: 'prod' },
    ],
    'where.1.value',
  ],
  ['IN with an empty list', [{ path: 'cluster', op: 'IN', value: [] }], 'where.0.value'],
  [
    'NOT_IN with 101 values',
    [{ path: 'cluster', op: 'NOT_IN', value: Array.from({ length: 101 }, (_, i) => `c${i}`) }],
    'where.0.value',
  ],
  ['IN with a list inside', [{ path: 'cluster', op: 'IN', value: ['a', ['b']] }], 'where.0.value.1'],
  ['GT with a numeric string', [{ path: 'data.n', op: 'GT', value: '5' }], 'where.0.value'],
  ['LTE with a date', [{ path: 'data.at', op: 'LTE', value: '2026-12-06T00:00:00Z' }], 'where.0.value'],
  ['PREFIX with a number', [{ path: 'entityFqn', op: 'PREFIX', value: 1 }], 'where.0.value'],
  ['PREFIX with an empty string', [{ path: 'entityFqn', op: 'PREFIX', value: '' }], 'where.0.value'],
  ['EXISTS with a string', [{ path: 'cluster', op: 'EXISTS', value: 'yes' }], 'where.0.value'],
  ['21 conditions', Array.from({ length: 21 }, () => ({ path: 'cluster', op: 'EXISTS' })), 'where'],
];

for (const backend of backends()) {
  describe(`Filter conditions (${backend.name})`, () => {
    let server: TestServer;
    let receiver: Receiver;

    before(async () => {
      receiver = await startReceiver();
      server = await startServer(backend);
    });
    after(async () => {
      await server?.stop();
      await receiver?.close();
    });

    const gql = async (query: string, variables: Json) => {
      const res = await server.gql(query, variables);
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      return res.data;
    };

    it('delivers the matching event of each operator row and not the other', async () => {
      const made: { path: string; row: Row; match: string; miss: string }[] = [];
      for (const [i, row] of rows.entries()) {
        const eventType = `cond.row${i}`;
        const input = makeWebhookInput({
          eventFilters: [{ eventTypes: [eventType], where: row.where }],
          config: { endpoint: `${receiver.url}/row-${i}` },
        });
        const webhook = (await gql(CREATE, { input })).createWebhook;
        // Read back as set: EXISTS without a value reads null.
        assert.deepEqual(
          webhook.eventFilters[0].where,
          row.where.map((c) => ({ value: null, ...c })),
          row.name,
        );
        const publish = async (fields: Json) =>
          (await gql(PUBLISH, { input: { eventType, entityType: 'table', ...fields } })).publishEvent as {
            id: string;
            deliveries: { webhook: { id: string } }[];
          };
        const match = await publish(row.match);
        const miss = await publish(row.miss);
        assert.deepEqual(
          match.deliveries.map((d) => d.webhook.id),
          [webhook.id],
          `${row.name}: matches`,
        );
        assert.deepEqual(miss.deliveries, [], `${row.name}: does not match`);
        made.push({ path: `/row-${i}`, row, match: match.id, miss: miss.id });
      }
      // What reached the receiver: each row's matching event, once, and never the other.
      await receiver
        .waitFor((r) => made.every((m) => r.some((x) => x.path === m.path)), 20_000)
        .catch(() => {});
      for (const m of made) {
        const got = receiver.received.filter((x) => x.path === m.path).map((x) => x.json?.eventId);
        assert.deepEqual(got, [m.match], `${m.row.name}: the receiver got the matching event only`);
      }
    });

    it('lets any filter match (OR) when only one has conditions that hold', async () => {
      const input = makeWebhookInput({
        eventFilters: [
          { eventTypes: ['cond.or'], where: [{ path: 'data.tier', op: 'EQ', value: 'gold' }] },
          { eventTypes: ['cond.or'], where: [{ path: 'data.total', op: 'GT', value: 1000 }] },
        ],
        config: { endpoint: `${receiver.url}/or` },
      });
      const webhook = (await gql(CREATE, { input })).createWebhook;
      const count = async (data: Json) =>
        (await gql(PUBLISH, { input: { eventType: 'cond.or', data } })).publishEvent.deliveries.length;
      assert.equal(await count({ tier: 'gold', total: 1 }), 1);
      assert.equal(await count({ tier: 'silver', total: 5000 }), 1);
      assert.equal(await count({ tier: 'silver', total: 5 }), 0);
      assert.ok(webhook.id);
    });

    it('takes conditions written inline in the document, lists and all', async () => {
      const name = `inline-${process.pid}-${Date.now()}`;
      const res = await server.gql(`mutation { createWebhook(input: {
        name: "${name}", webhookType: GENERIC, config: { endpoint: "${receiver.url}/inline" },
        eventFilters: [{ eventTypes: ["cond.inline"], where: [
          { path: "data.region", op: IN, value: ["eu", "us"] },
          { path: "data.total", op: GTE, value: 10 },
          { path: "data.coupon", op: EXISTS }
        ] }] }) { id eventFilters { where { path op value } } } }`);
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      assert.deepEqual(res.data.createWebhook.eventFilters[0].where, [
        { path: 'data.region', op: 'IN', value: ['eu', 'us'] },
        { path: 'data.total', op: 'GTE', value: 10 },
        { path: 'data.coupon', op: 'EXISTS', value: null },
      ]);
      const count = async (data: Json) =>
        (await gql(PUBLISH, { input: { eventType: 'cond.inline', data } })).publishEvent.deliveries.length;
      assert.equal(await count({ region: 'us', total: 10, coupon: 'X' }), 1);
      assert.equal(await count({ region: 'us', total: 10 }), 0);
    });

    it('shows changed conditions in the change description and the version history', async () => {
      const first = [{ path: 'data.total', op: 'GT', value: 10 }];
      const input = makeWebhookInput({ eventFilters: [{ eventTypes: ['cond.history'], where: first }] });
      const webhook = (await gql(CREATE, { input })).createWebhook;
      const second = [{ path: 'data.total', op: 'GT', value: 20 }];
      const updated = (
        await gql(UPDATE, {
          id: webhook.id,
          input: { eventFilters: [{ eventTypes: ['cond.history'], where: second }] },
        })
      ).updateWebhook;
      const change = updated.changeDescription.fieldsUpdated.find(
        (f: { name: string }) => f.name === 'eventFilters',
      );
      assert.deepEqual(change.oldValue, [{ eventTypes: ['cond.history'], where: first }]);
      assert.deepEqual(change.newValue, [{ eventTypes: ['cond.history'], where: second }]);
      const read = (await gql(READ, { id: webhook.id })).webhook;
      assert.deepEqual(read.eventFilters[0].where, second);
    });

    for (const [label, where, field] of refusals) {
      it(`refuses ${label} with BAD_USER_INPUT on eventFilters.0.${field}, changing nothing`, async () => {
        const total = async () => (await gql(COUNT, {})).webhooks.totalCount as number;
        const before = await total();
        const created = await server.gql(CREATE, {
          input: makeWebhookInput({ eventFilters: [{ eventTypes: ['cond.bad'], where }] }),
        });
        assert.equal(created.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', JSON.stringify(created.errors));
        assert.equal(created.errors?.[0]?.extensions?.field, `eventFilters.0.${field}`);
        assert.equal(await total(), before);

        // The same on update: the webhook keeps its version and its conditions.
        const kept = [{ path: 'cluster', op: 'EQ', value: 'prod' }];
        const input = makeWebhookInput({ eventFilters: [{ eventTypes: ['cond.bad'], where: kept }] });
        const webhook = (await gql(CREATE, { input })).createWebhook;
        const updated = await server.gql(UPDATE, {
          id: webhook.id,
          input: { eventFilters: [{ eventTypes: ['cond.bad'], where }] },
        });
        assert.equal(updated.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
        assert.equal(updated.errors?.[0]?.extensions?.field, `eventFilters.0.${field}`);
        const read = (await gql(READ, { id: webhook.id })).webhook;
        assert.deepEqual(read, { version: webhook.version, eventFilters: [{ where: kept }] });
      });
    }
  });
}
