import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { stableJson } from '../../src/webhooks/changes.js';
import { createWebhook, publish } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

type Kind =
  | 'string'
  | 'credential'
  | 'int'
  | 'bool'
  | 'json'
  | 'enum'
  | 'id'
  | 'strings'
  | 'ints'
  | 'object'
  | 'datetime';

const deep = (levels: number): unknown => (levels === 0 ? 'bottom' : { d: deep(levels - 1) });
const huge = 'x'.repeat(300_000);

const badStrings = [42, true, { a: 1 }, [{}], 'nul\u0000byte', 'lone \ud800 surrogate', huge];

/** Values no field of that kind may accept: wrong types, unstorable text, oversized, too deep. */
const invalid: Record<Kind, unknown[]> = {
  string: badStrings,
  // What goes into an Authorization header (a Bearer token, Basic credentials): no control characters.
  credential: [...badStrings, 'cr\r\nX-Evil: 1', 'lf\nonly', 'bell\u0007', 'del\u007f'],
  int: ['12', 1.5, true, { a: 1 }, -1_000_000_000, 2 ** 40],
  bool: ['yes', 1, { a: 1 }],
  json: [{ k: 'nul\u0000' }, { k: 'lone \udc00' }, deep(100), { big: huge }],
  enum: ['NOPE', 1, '', 'active'],
  id: ['not-an-id', 5, '', `wh_${'x'.repeat(5000)}`, 'evt_01900000-0000-7000-8000-000000000000x'],
  strings: [[1], [{}], ['nul\u0000'], [huge], [null], 7],
  ints: [['a'], [1.5], [-5], [{}], [2 ** 40], [null]],
  object: ['text', 5, [1, 2], true],
  datetime: ['yesterday', 12, '2026-13-45T99:00:00Z'],
};

/** Leaf paths of the inputs, by kind. */
const webhookFields: [string, Kind][] = [
  ['name', 'string'],
  ['displayName', 'string'],
  ['description', 'string'],
  ['webhookType', 'enum'],
  ['enabled', 'bool'],
  ['batchSize', 'int'],
  ['eventFilters', 'object'],
  ['eventFilters.0.eventTypes', 'strings'],
  ['eventFilters.0.entities', 'strings'],
  ['eventFilters.0.include', 'strings'],
  ['eventsPolicy', 'object'],
  ['eventsPolicy.mode', 'enum'],
  ['minLevel', 'enum'],
  ['config', 'object'],
  ['config.endpoint', 'string'],
  ['config.secretKey', 'string'],
  ['config.headers', 'object'],
  ['config.headers.0.name', 'string'],
  ['config.headers.0.value', 'string'],
  ['config.timeoutMs', 'int'],
  ['config.httpAuth', 'object'],
  ['config.httpAuth.type', 'enum'],
  ['config.httpAuth.username', 'credential'],
  ['config.httpAuth.password', 'credential'],
  ['config.httpAuth.token', 'credential'],
  ['config.allowInvalidCerts', 'bool'],
  ['config.template', 'json'],
  ['retryPolicy.scheduleSeconds', 'ints'],
  ['retryPolicy.discardAfterSeconds', 'int'],
  ['retryPolicy.throttleMs', 'int'],
  ['owner', 'object'],
  ['owner.type', 'string'],
  ['owner.name', 'string'],
  ['tags', 'strings'],
  ['domain', 'string'],
  ['global', 'bool'],
  ['verbosity', 'enum'],
];

const eventFields: [string, Kind][] = [
  ['eventType', 'string'],
  ['entityType', 'string'],
  ['entityId', 'string'],
  ['cluster', 'string'],
  ['actor', 'object'],
  ['actor.name', 'string'],
  ['actor.roles', 'strings'],
  ['level', 'enum'],
  ['changedFields', 'object'],
  ['changedFields.0.name', 'string'],
  ['changedFields.0.newValue', 'json'],
  ['data', 'json'],
  ['occurredAt', 'datetime'],
  ['idempotencyKey', 'string'],
];

function setPath(target: any, path: string, value: unknown) {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) node = node[part];
  node[parts.at(-1) as string] = value;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));

function hasParent(target: any, path: string): boolean {
  let node = target;
  for (const part of path.split('.').slice(0, -1)) {
    if (node === null || typeof node !== 'object' || !(part in node)) return false;
    node = node[part];
  }
  return node !== null && typeof node === 'object';
}

function* variants(base: Record<string, unknown>, fields: [string, Kind][]) {
  for (const [path, kind] of fields) {
    for (const value of invalid[kind]) {
      // A list field accepts a single value as a one-item list (GraphQL input coercion), and a
      // JSON field any value: only what no field of that kind accepts is tried there.
      if (kind === 'json' && typeof value !== 'object') continue;
      const input = clone(base);
      if (!hasParent(input, path)) continue;
      setPath(input, path, value);
      yield { path, value, input };
    }
  }
}

const ALLOWED = new Set([
  'BAD_USER_INPUT',
  'GRAPHQL_VALIDATION_FAILED',
  'GRAPHQL_PARSE_FAILED',
  'NOT_FOUND',
  'FORBIDDEN',
  'CONFLICT',
  'TARGET_NOT_ALLOWED',
  'BAD_REQUEST',
]);

for (const backend of backends()) {
  describe(`every mutation refuses malformed and oversized input with a coded error (${backend.name})`, () => {
    let server: TestServer;
    let receiver: Receiver;
    let webhookId: string;
    let deliveryId: string;
    const tried: Record<string, number> = {};
    before(async () => {
      server = await startServer(backend);
      receiver = await startReceiver();
      webhookId = await createWebhook(server, {
        config: { endpoint: `${receiver.url}/h` },
        eventFilters: [{ eventTypes: ['hostile'] }],
      });
      deliveryId = (await publish(server, { eventType: 'hostile' })).deliveries[0]!.id;
      await receiver.waitForCount(1);
    });
    after(async (t) => {
      const total = Object.values(tried).reduce((a, b) => a + b, 0);
      console.log(`# malformed inputs tried on ${backend.name}: ${total} (${JSON.stringify(tried)})`);
      await receiver?.close();
      await server?.stop();
    });

    /** Row counts a refused mutation must leave alone. */
    const counts = async () => {
      const res = await server.gql(
        `query($id: ID) { webhooks(first: 0, filter: { includeDeleted: true }) { totalCount }
        deliveries(first: 0) { totalCount } apiTokens { id revokedAt } webhook(id: $id) { version deleted versions { version } } }`,
        { id: webhookId },
      );
      return stableJson(res.data);
    };

    async function expectRefused(
      name: string,
      query: string,
      { _path, ...variables }: Record<string, unknown>,
    ) {
      tried[name] = (tried[name] ?? 0) + 1;
      const res = await server.gql(query, variables);
      name = _path ? `${name} (${_path})` : name;
      assert.ok(
        res.status < 500,
        `${name}: HTTP ${res.status} for ${JSON.stringify(variables).slice(0, 200)}`,
      );
      const code = res.errors?.[0]?.extensions?.code as string | undefined;
      assert.ok(
        code && ALLOWED.has(code),
        `${name}: ${JSON.stringify(res.errors ?? res.data).slice(0, 300)} for ${JSON.stringify(variables).slice(0, 200)}`,
      );
      assert.ok(
        !/at |\bselect\b|\binsert\b|stack/i.test(res.errors?.[0]?.message ?? '') ||
          code !== 'INTERNAL_SERVER_ERROR',
      );
    }

    const mutations: { name: string; query: string; vars: () => Generator<Record<string, unknown>> }[] = [
      {
        name: 'createWebhook',
        query: 'mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }',
        vars: function* () {
          const base = makeWebhookInput({
            name: 'hostile-new',
            config: {
              endpoint: 'https://hooks.example.com/x',
              headers: [{ name: 'X-A', value: 'b' }],
              httpAuth: { type: 'NONE' },
              template: { a: 1 },
            },
            eventsPolicy: { mode: 'INCLUDE', eventTypes: ['x'] },
            owner: { type: 'team', name: 't' },
            retryPolicy: { scheduleSeconds: [1] },
            changedFields: undefined,
          });
          for (const v of variants(base, webhookFields)) yield { input: v.input, _path: v.path };
          yield { input: null };
          yield { input: 'not an object' };
        },
      },
      {
        name: 'createWebhooks',
        query: 'mutation($inputs: [CreateWebhookInput!]!) { createWebhooks(inputs: $inputs) { id } }',
        vars: function* () {
          const good = makeWebhookInput({ name: 'hostile-bulk-ok' });
          for (const v of variants(makeWebhookInput({ name: 'hostile-bulk' }), webhookFields.slice(0, 12)))
            yield { inputs: [good, v.input] };
          yield { inputs: Array.from({ length: 101 }, (_, i) => makeWebhookInput({ name: `bulk-${i}` })) };
          yield { inputs: [good, { ...good }] };
        },
      },
      {
        name: 'updateWebhook',
        query:
          'mutation($id: ID!, $input: UpdateWebhookInput!, $v: Float) { updateWebhook(id: $id, input: $input, expectedVersion: $v) { id } }',
        vars: function* () {
          const base = {
            description: 'still fine',
            config: {
              endpoint: 'https://hooks.example.com/y',
              headers: [{ name: 'X-A', value: 'b' }],
              httpAuth: { type: 'BEARER', token: 'fine' },
            },
            eventFilters: [{ eventTypes: ['hostile'] }],
          };
          const fields = webhookFields.filter(
            ([p]) =>
              !p.startsWith('eventsPolicy.') &&
              !p.startsWith('owner.') &&
              !p.startsWith('retryPolicy.') &&
              !p.startsWith('eventFilters.0.entities') &&
              !p.startsWith('eventFilters.0.include'),
          );
          for (const v of variants(base as Record<string, unknown>, fields))
            yield { id: webhookId, input: v.input };
          for (const id of invalid.id) yield { id, input: { description: 'x' } };
          yield { id: webhookId, input: { description: 'x' }, v: 9.9 };
          yield { id: webhookId, input: { description: 'x' }, v: 'one' };
        },
      },
      ...(['deleteWebhook', 'restoreWebhook', 'rotateWebhookSecret', 'testWebhook'] as const).map((name) => ({
        name,
        query: `mutation($id: ID!) { ${name}(id: $id) ${name === 'deleteWebhook' || name === 'rotateWebhookSecret' ? '' : '{ id }'} }`,
        vars: function* () {
          for (const id of [...invalid.id, null, { id: 1 }, ['wh_x']]) yield { id };
        },
      })),
      {
        name: 'publishEvent',
        query: 'mutation($input: PublishEventInput!) { publishEvent(input: $input) { id } }',
        vars: function* () {
          const base = {
            eventType: 'hostile.other',
            entityType: 'table',
            entityId: 't',
            cluster: 'c',
            actor: { name: 'a', roles: ['r'] },
            level: 'INFO',
            changedFields: [{ name: 'f', newValue: 1 }],
            data: { a: 1 },
            occurredAt: '2026-01-01T00:00:00Z',
            idempotencyKey: 'k',
          };
          for (const v of variants(base, eventFields)) yield { input: v.input, _path: v.path };
        },
      },
      {
        name: 'publishEvents',
        query: 'mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }',
        vars: function* () {
          yield { inputs: Array.from({ length: 1001 }, () => ({ eventType: 'hostile.many' })) };
          for (const v of variants({ eventType: 'hostile.ok', data: { a: 1 } }, eventFields.slice(0, 4)))
            yield { inputs: [{ eventType: 'hostile.ok' }, v.input] };
        },
      },
      {
        name: 'retryDelivery',
        query: 'mutation($id: ID!) { retryDelivery(id: $id) { id } }',
        vars: function* () {
          for (const id of [...invalid.id, 'dlv_01900000-0000-7000-8000-000000000000', webhookId])
            yield { id };
        },
      },
      {
        name: 'replayDeliveries',
        query:
          'mutation($w: ID!, $s: DateTime, $u: DateTime, $st: [DeliveryStatus!]) { replayDeliveries(webhookId: $w, since: $s, until: $u, status: $st) }',
        vars: function* () {
          for (const w of [...invalid.id, deliveryId]) yield { w };
          for (const s of invalid.datetime) yield { w: webhookId, s };
          yield { w: webhookId, st: ['NOPE'] };
          yield { w: webhookId, s: '2026-02-01T00:00:00Z', u: '2026-01-01T00:00:00Z' };
        },
      },
      {
        name: 'createApiToken',
        query:
          'mutation($n: String!, $r: Role!, $t: String) { createApiToken(name: $n, role: $r, tenantId: $t) }',
        vars: function* () {
          for (const n of invalid.string) yield { n, r: 'USER' };
          for (const r of invalid.enum) yield { n: 'x', r };
          for (const t of [...invalid.string, 'has space', '']) yield { n: 'x', r: 'USER', t };
        },
      },
      {
        name: 'revokeApiToken',
        query: 'mutation($id: ID!) { revokeApiToken(id: $id) }',
        vars: function* () {
          for (const id of [...invalid.id, 'tok_01900000-0000-7000-8000-000000000000', webhookId])
            yield { id };
        },
      },
    ];

    for (const m of mutations) {
      it(`${m.name}: every malformed or oversized input gets a coded error and changes nothing`, async () => {
        const before = await counts();
        for (const variables of m.vars()) await expectRefused(m.name, m.query, variables);
        assert.equal(await counts(), before, `${m.name} changed the database`);
        assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'the server is still up');
      });
    }

    it('refuses documents that are too deep, too wide, too large or unbounded', async () => {
      const depth = await server.gql(
        `{ webhooks { edges { node { deliveries { edges { node { webhook { deliveries { edges { node { webhook { deliveries { edges { node { id } } } } } } } } } } } } } } }`,
      );
      assert.equal(depth.errors?.[0]?.extensions?.code, 'DEPTH_LIMIT_EXCEEDED');
      const aliases = await server.gql(
        `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: me { role }`).join(' ')} }`,
      );
      assert.equal(aliases.errors?.[0]?.extensions?.code, 'ALIAS_LIMIT_EXCEEDED');
      const tokens = await server.gql(`query($v: [String] = [${'"x" '.repeat(6000)}]) { me { role } }`);
      assert.equal(tokens.errors?.[0]?.extensions?.code, 'TOKEN_LIMIT_EXCEEDED');
      const big = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer test-admin-token-0123456789' },
        body: JSON.stringify({ query: '{ me { role } }', variables: { pad: 'p'.repeat(5 * 1024 * 1024) } }),
      });
      assert.equal(big.status, 413);
      assert.match(big.headers.get('content-type') ?? '', /json/);
      const data = await server.gql(
        `mutation($d: JSON) { publishEvent(input: { eventType: "big", data: $d }) { id } }`,
        { d: { blob: 'b'.repeat(300 * 1024) } },
      );
      assert.equal(data.errors?.[0]?.extensions?.field, 'data');
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: 'Bearer test-admin-token-0123456789',
          'x-request-id': 'trace-me-42',
        },
        body: JSON.stringify({ query: '{ webhook(id: "bad") { id } }' }),
      });
      assert.equal(res.headers.get('x-request-id'), 'trace-me-42');
      const body = (await res.json()) as any;
      assert.equal(body.errors[0].extensions.requestId, 'trace-me-42');
    });

    it('answers impossible dates and absurdly nested documents with coded errors', async () => {
      const old = await server.gql(
        `mutation { publishEvent(input: { eventType: "old", occurredAt: "0000-01-01T00:00:00Z" }) { id } }`,
      );
      assert.equal(old.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      const id = await createWebhook(server, {
        config: { endpoint: `${receiver.url}/d` },
        eventFilters: [{ eventTypes: ['never'] }],
      });
      const replay = await server.gql(
        `mutation($w: ID!) { replayDeliveries(webhookId: $w, since: "0000-01-01T00:00:00Z") }`,
        { w: id },
      );
      assert.equal(replay.errors?.[0]?.extensions?.field, 'since');
      const nested = await server.gql(
        `mutation { publishEvent(input: { eventType: "x", data: ${'['.repeat(2400)}${']'.repeat(2400)} }) { id } }`,
      );
      assert.ok(nested.status < 500, `HTTP ${nested.status}`);
      assert.ok(nested.errors?.[0]?.extensions?.code, JSON.stringify(nested.errors));
    });
  });
}
