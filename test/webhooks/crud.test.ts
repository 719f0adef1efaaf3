import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/db.js';
import { makeWebhookInput, WEBHOOK_FIELDS } from '../helpers/factories.js';
import { ADMIN_TOKEN, startServer, type TestServer } from '../helpers/server.js';

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { ${WEBHOOK_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateWebhookInput!, $v: Float) {
  updateWebhook(id: $id, input: $input, expectedVersion: $v) { ${WEBHOOK_FIELDS} } }`;
const GET = `query($id: ID, $name: String) { webhook(id: $id, name: $name) { ${WEBHOOK_FIELDS}
  versions { version updatedBy updatedAt snapshot changeDescription { previousVersion
    fieldsAdded { name oldValue newValue } fieldsUpdated { name oldValue newValue } fieldsDeleted { name oldValue newValue } } } } }`;
const LIST = `query($first: Int, $after: String, $last: Int, $before: String, $filter: WebhookFilter) {
  webhooks(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    totalCount edges { cursor node { id name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;

for (const backend of backends()) {
  describe(`Webhook entity over GraphQL (${backend.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer(backend);
    });
    after(async () => {
      await server?.stop();
    });

    const create = async (input: Record<string, unknown>) => {
      const res = await server.gql(CREATE, { input });
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      return res.data.createWebhook;
    };

    it('creates a webhook with defaults and reads it back by id, by name and through node(id)', async () => {
      const input = makeWebhookInput({
        name: 'orders.slack',
        displayName: 'Orders to Slack',
        webhookType: 'SLACK',
        owner: { type: 'team', name: 'DataEngineering' },
        tags: ['Integration.Slack', 'Tier.Gold', 'Integration.Slack'],
        domain: 'Sales',
        eventsPolicy: { mode: 'EXCLUDE', eventTypes: ['entitySoftDeleted'] },
        minLevel: 'INFO',
      });
      const w = await create(input);
      assert.match(w.id, /^wh_[0-9a-f-]{36}$/);
      assert.equal(w.name, 'orders.slack');
      assert.equal(w.fullyQualifiedName, '"orders.slack"');
      assert.equal(w.webhookType, 'SLACK');
      assert.equal(w.status, 'ACTIVE');
      assert.equal(w.enabled, true);
      assert.equal(w.batchSize, 1);
      assert.equal(w.version, 0.1);
      assert.equal(w.updatedBy, 'admin');
      assert.equal(w.deleted, false);
      assert.equal(w.changeDescription, null);
      assert.equal(w.config.timeoutMs, 10000);
      assert.equal(w.config.hasSecret, false);
      assert.equal(w.config.httpAuthType, 'NONE');
      assert.deepEqual(w.retryPolicy, {
        scheduleSeconds: [60, 300, 900, 3600, 14400, 43200],
        maxAttempts: 7,
        discardAfterSeconds: null,
        lossy: false,
        throttleMs: 0,
      });
      assert.deepEqual(w.tags, [{ tagFQN: 'Integration.Slack' }, { tagFQN: 'Tier.Gold' }]);
      assert.deepEqual(w.owner, { id: null, type: 'team', name: 'DataEngineering' });
      assert.deepEqual(w.eventsPolicy, { mode: 'EXCLUDE', eventTypes: ['entitySoftDeleted'] });
      assert.deepEqual(w.eventFilters, [
        {
          eventTypes: ['entityCreated'],
          entities: ['table'],
          clusters: null,
          namespaces: null,
          include: null,
          exclude: null,
        },
      ]);
      assert.equal(w.href, `${server.url}/webhooks/${w.id}`);

      const byId = await server.gql(GET, { id: w.id });
      const byName = await server.gql(GET, { name: 'orders.slack' });
      assert.equal(byId.data.webhook.id, w.id);
      assert.equal(byName.data.webhook.id, w.id);
      const node = await server.gql(
        `query($id: ID!) { node(id: $id) { __typename id ... on Webhook { name } } }`,
        {
          id: w.id,
        },
      );
      assert.deepEqual(node.data.node, { __typename: 'Webhook', id: w.id, name: 'orders.slack' });

      // href is a link a client can follow, with the same token.
      const resource = await fetch(w.href, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      assert.equal(resource.status, 200);
      const body = (await resource.json()) as Record<string, unknown>;
      assert.equal(body.id, w.id);
      assert.equal(body.name, 'orders.slack');
      assert.equal((await fetch(w.href)).status, 401);
    });

    it('answers null for a lookup of a webhook that does not exist', async () => {
      const missing = await server.gql(GET, { id: 'wh_01900000-0000-7000-8000-000000000000' });
      assert.equal(missing.errors, undefined);
      assert.equal(missing.data.webhook, null);
      const byName = await server.gql(GET, { name: 'no-such-hook' });
      assert.equal(byName.data.webhook, null);
    });

    it('never returns a secret, an auth password or a secret header value', async () => {
      const secrets = [
        'whsec_c2VjcmV0LXNpZ25pbmcta2V5LTEyMzQ1Ng==',
        'p4ssw0rd-basic',
        'header-secret-value-42',
      ];
      const w = await create(
        makeWebhookInput({
          config: {
            endpoint: 'https://receiver.example.com/signed',
            secretKey: secrets[0],
            httpAuth: { type: 'BASIC', username: 'account', password: secrets[1] },
            headers: [
              { name: 'X-Api-Key', value: secrets[2], secret: true },
              { name: 'X-Team', value: 'data' },
            ],
          },
        }),
      );
      assert.equal(w.config.hasSecret, true);
      assert.equal(w.config.httpAuthType, 'BASIC');
      assert.equal(w.config.httpAuthUsername, 'account');
      assert.deepEqual(w.config.headers, [
        { name: 'X-Api-Key', value: null, secret: true },
        { name: 'X-Team', value: 'data', secret: false },
      ]);
      // Rotate the secret and change the header: the change is recorded, the values are not.
      const updated = await server.gql(UPDATE, {
        id: w.id,
        input: {
          config: {
            secretKey: 'another-secret-value-77',
            headers: [
              { name: 'X-Api-Key', secret: true },
              { name: 'X-Team', value: 'ops' },
            ],
          },
        },
      });
      assert.equal(updated.errors, undefined, JSON.stringify(updated.errors));
      const changed = updated.data.updateWebhook.changeDescription.fieldsUpdated.map(
        (c: { name: string }) => c.name,
      );
      assert.deepEqual(changed.sort(), ['config.headers', 'config.secretKey']);
      const all = [
        JSON.stringify(updated),
        (await server.gql(GET, { id: w.id })).text,
        (await server.gql(LIST, { first: 100, filter: { includeDeleted: true } })).text,
        await (await fetch(w.href, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text(),
      ].join('\n');
      for (const secret of [...secrets, 'another-secret-value-77']) {
        assert.equal(all.includes(secret), false, `a response contains ${secret}`);
      }
    });

    it('creates several webhooks in one request, or none when one input is bad', async () => {
      const before = (await server.gql(LIST, { first: 0, filter: { includeDeleted: true } })).data.webhooks
        .totalCount;
      const good = [makeWebhookInput(), makeWebhookInput(), makeWebhookInput()];
      const bulk = `mutation($inputs: [CreateWebhookInput!]!) { createWebhooks(inputs: $inputs) { id name } }`;
      const ok = await server.gql(bulk, { inputs: good });
      assert.equal(ok.errors, undefined, JSON.stringify(ok.errors));
      assert.deepEqual(
        ok.data.createWebhooks.map((w: { name: string }) => w.name),
        good.map((g) => g.name),
      );

      const bad = [makeWebhookInput(), makeWebhookInput({ batchSize: 5000 }), makeWebhookInput()];
      const rejected = await server.gql(bulk, { inputs: bad });
      assert.equal(rejected.data, null);
      assert.equal(rejected.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.equal(rejected.errors?.[0]?.extensions?.field, 'batchSize');
      assert.equal(rejected.errors?.[0]?.extensions?.index, 1);

      const clash = [makeWebhookInput(), makeWebhookInput({ name: good[0]?.name })];
      const conflict = await server.gql(bulk, { inputs: clash });
      assert.equal(conflict.errors?.[0]?.extensions?.code, 'CONFLICT');
      assert.equal(conflict.errors?.[0]?.extensions?.index, 1);

      const twice = makeWebhookInput();
      const dup = await server.gql(bulk, { inputs: [twice, { ...twice }] });
      assert.equal(dup.errors?.[0]?.extensions?.code, 'CONFLICT');

      const afterCount = (await server.gql(LIST, { first: 0, filter: { includeDeleted: true } })).data
        .webhooks.totalCount;
      assert.equal(afterCount, before + 3);
      for (const name of [bad[0]?.name, clash[0]?.name, twice.name]) {
        assert.equal((await server.gql(GET, { name })).data.webhook, null, `${name} was written`);
      }
    });

    it('updates three times, bumping the version only on real changes, and keeps every version', async () => {
      const w = await create(makeWebhookInput({ tags: ['Tier.Silver'] }));
      const first = await server.gql(UPDATE, {
        id: w.id,
        input: { description: 'first change', batchSize: 5 },
        v: 0.1,
      });
      assert.equal(first.errors, undefined, JSON.stringify(first.errors));
      assert.equal(first.data.updateWebhook.version, 0.2);
      assert.deepEqual(first.data.updateWebhook.changeDescription, {
        previousVersion: 0.1,
        fieldsAdded: [],
        fieldsUpdated: [
          { name: 'description', oldValue: 'sends table changes', newValue: 'first change' },
          { name: 'batchSize', oldValue: 1, newValue: 5 },
        ],
        fieldsDeleted: [],
      });

      const same = await server.gql(UPDATE, {
        id: w.id,
        input: { description: 'first change', batchSize: 5 },
      });
      assert.equal(same.data.updateWebhook.version, 0.2, 'an update that changes nothing must not bump');

      const second = await server.gql(UPDATE, {
        id: w.id,
        input: { displayName: 'Table hook', tags: ['Tier.Gold'], config: { timeoutMs: 2500 } },
        v: 0.2,
      });
      assert.equal(second.data.updateWebhook.version, 0.3);
      const cd2 = second.data.updateWebhook.changeDescription;
      assert.deepEqual(cd2.fieldsAdded, [
        { name: 'displayName', oldValue: null, newValue: 'Table hook' },
        { name: 'tags', oldValue: null, newValue: [{ tagFQN: 'Tier.Gold' }] },
      ]);
      assert.deepEqual(cd2.fieldsUpdated, [{ name: 'config.timeoutMs', oldValue: 10000, newValue: 2500 }]);
      assert.deepEqual(cd2.fieldsDeleted, [
        { name: 'tags', oldValue: [{ tagFQN: 'Tier.Silver' }], newValue: null },
      ]);

      const third = await server.gql(UPDATE, { id: w.id, input: { description: null, enabled: false } });
      const w3 = third.data.updateWebhook;
      assert.equal(w3.version, 0.4);
      assert.equal(w3.status, 'DISABLED');
      assert.deepEqual(w3.changeDescription.fieldsDeleted, [
        { name: 'description', oldValue: 'first change', newValue: null },
      ]);
      assert.deepEqual(w3.changeDescription.fieldsUpdated, [
        { name: 'enabled', oldValue: true, newValue: false },
      ]);
      assert.equal(w3.config.timeoutMs, 2500, 'fields left out keep their value');
      assert.equal(w3.displayName, 'Table hook');

      const history = (await server.gql(GET, { id: w.id })).data.webhook.versions;
      assert.deepEqual(
        history.map((v: { version: number }) => v.version),
        [0.4, 0.3, 0.2, 0.1],
      );
      assert.equal(history[3].snapshot.description, 'sends table changes');
      assert.equal(history[2].snapshot.batchSize, 5);
      assert.equal(history[1].changeDescription.previousVersion, 0.2);
      assert.equal(history[0].snapshot.enabled, false);
      for (const v of history) assert.equal(v.updatedBy, 'admin');

      const stale = await server.gql(UPDATE, { id: w.id, input: { description: 'late' }, v: 0.2 });
      assert.equal(stale.errors?.[0]?.extensions?.code, 'CONFLICT');
      assert.equal(stale.errors?.[0]?.extensions?.field, 'expectedVersion');
      const between = await server.gql(UPDATE, { id: w.id, input: { description: 'late' }, v: 0.41 });
      assert.equal(between.errors?.[0]?.extensions?.code, 'CONFLICT', 'no version 0.41 exists');
      assert.equal((await server.gql(GET, { id: w.id })).data.webhook.version, 0.4);
    });

    it('soft deletes (hidden from lists, restorable) and hard deletes with the history', async () => {
      const w = await create(makeWebhookInput({ tags: ['deletion-test'] }));
      const filter = { tag: 'deletion-test' };
      const del = await server.gql(`mutation($id: ID!) { deleteWebhook(id: $id) }`, { id: w.id });
      assert.equal(del.data.deleteWebhook, true);
      assert.equal((await server.gql(LIST, { filter })).data.webhooks.totalCount, 0);
      const shown = await server.gql(LIST, { filter: { ...filter, includeDeleted: true } });
      assert.deepEqual(
        shown.data.webhooks.edges.map((e: { node: { id: string } }) => e.node.id),
        [w.id],
      );
      const soft = (await server.gql(GET, { id: w.id })).data.webhook;
      assert.equal(soft.deleted, true);
      assert.equal(soft.version, 0.2);
      assert.deepEqual(soft.changeDescription.fieldsUpdated, [
        { name: 'deleted', oldValue: false, newValue: true },
      ]);

      const edit = await server.gql(UPDATE, { id: w.id, input: { description: 'x' } });
      assert.equal(edit.errors?.[0]?.extensions?.code, 'CONFLICT');

      const restored = await server.gql(
        `mutation($id: ID!) { restoreWebhook(id: $id) { deleted version } }`,
        {
          id: w.id,
        },
      );
      assert.deepEqual(restored.data.restoreWebhook, { deleted: false, version: 0.3 });
      assert.equal((await server.gql(LIST, { filter })).data.webhooks.totalCount, 1);

      const hard = await server.gql(`mutation($id: ID!) { deleteWebhook(id: $id, hard: true) }`, {
        id: w.id,
      });
      assert.equal(hard.data.deleteWebhook, true);
      assert.equal((await server.gql(GET, { id: w.id })).data.webhook, null);
      assert.equal(
        (await server.gql(LIST, { filter: { ...filter, includeDeleted: true } })).data.webhooks.totalCount,
        0,
      );
      const again = await server.gql(`mutation($id: ID!) { deleteWebhook(id: $id, hard: true) }`, {
        id: w.id,
      });
      assert.equal(again.errors?.[0]?.extensions?.code, 'NOT_FOUND');
      const name = await create(makeWebhookInput({ name: w.name }));
      assert.equal(name.version, 0.1, 'a hard-deleted name is free again');
    });
  });
}
