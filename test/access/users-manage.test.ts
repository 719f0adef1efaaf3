import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deliveryWhen } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

const TOKEN = `mutation($name: String!, $role: Role!) { createApiToken(name: $name, role: $role) }`;
const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id version } }`;
const GET = `query($id: ID!) { webhook(id: $id) { id version deleted config { endpoint } deliveries(first: 10) { totalCount edges { node { id status } } } } }`;

type Json = Record<string, any>;

for (const backend of backends()) {
  describe(`HOOKLINE_USERS_MANAGE_WEBHOOKS=false: only ADMIN and OPS manage webhooks (${backend.name})`, () => {
    let server: TestServer;
    let receiver: Receiver;
    let user: string;
    let ops: string;
    let hookId: string;
    let deliveryId: string;

    before(async () => {
      receiver = await startReceiver();
      server = await startServer(backend, { HOOKLINE_USERS_MANAGE_WEBHOOKS: 'false' });
      user = (await server.gql(TOKEN, { name: 'alice', role: 'USER' })).data.createApiToken;
      ops = (await server.gql(TOKEN, { name: 'olga', role: 'OPS' })).data.createApiToken;
      // An OPS token still creates webhooks, here one that alice owns.
      const created = await server.gql(
        CREATE,
        {
          input: makeWebhookInput({
            eventFilters: [{ eventTypes: ['manage.check'] }],
            owner: { type: 'user', name: 'alice' },
            config: { endpoint: `${receiver.url}/alice` },
          }),
        },
        ops,
      );
      assert.equal(created.errors, undefined, created.text);
      hookId = created.data.createWebhook.id;
      const published = await server.gql(
        `mutation { publishEvent(input: { eventType: "manage.check", entityType: "table" }) { deliveries { id } } }`,
        {},
        ops,
      );
      assert.equal(published.errors, undefined, published.text);
      deliveryId = published.data.publishEvent.deliveries[0].id;
      await receiver.waitForCount(1, 15_000);
      // Recorded, not only received: the refusals compare the webhook's history before and after.
      await deliveryWhen(server, deliveryId, (d) => d.status === 'SUCCEEDED');
    });
    after(async () => {
      await server?.stop();
      await receiver?.close();
    });

    const refusals: [string, string, () => Json][] = [
      [
        'createWebhook',
        CREATE,
        () => ({ input: makeWebhookInput({ config: { endpoint: `${receiver.url}/x` } }) }),
      ],
      [
        'createWebhooks',
        `mutation($inputs: [CreateWebhookInput!]!) { createWebhooks(inputs: $inputs) { id } }`,
        () => ({ inputs: [makeWebhookInput({ config: { endpoint: `${receiver.url}/y` } })] }),
      ],
      [
        'updateWebhook',
        `mutation($id: ID!) { updateWebhook(id: $id, input: { config: { endpoint: "https://elsewhere.example.com/" } }) { id } }`,
        () => ({ id: hookId }),
      ],
      ['deleteWebhook', `mutation($id: ID!) { deleteWebhook(id: $id) }`, () => ({ id: hookId })],
      [
        'deleteWebhook hard',
        `mutation($id: ID!) { deleteWebhook(id: $id, hard: true) }`,
        () => ({ id: hookId }),
      ],
      ['restoreWebhook', `mutation($id: ID!) { restoreWebhook(id: $id) { id } }`, () => ({ id: hookId })],
      ['rotateWebhookSecret', `mutation($id: ID!) { rotateWebhookSecret(id: $id) }`, () => ({ id: hookId })],
      ['testWebhook', `mutation($id: ID!) { testWebhook(id: $id) { id } }`, () => ({ id: hookId })],
      ['retryDelivery', `mutation($id: ID!) { retryDelivery(id: $id) { id } }`, () => ({ id: deliveryId })],
      ['replayDeliveries', `mutation($id: ID!) { replayDeliveries(webhookId: $id) }`, () => ({ id: hookId })],
    ];
    for (const [name, query, vars] of refusals) {
      it(`refuses ${name} to a USER with FORBIDDEN, and nothing changes or is sent`, async () => {
        const before = await server.gql(GET, { id: hookId });
        const sent = receiver.received.length;
        const res = await server.gql(query, vars(), user);
        assert.equal(res.errors?.[0]?.extensions?.code, 'FORBIDDEN', res.text);
        assert.match(res.errors?.[0]?.message ?? '', /only ADMIN and OPS manage webhooks/);
        assert.deepEqual((await server.gql(GET, { id: hookId })).data, before.data);
        const all = await server.gql(`{ webhooks(filter: { includeDeleted: true }) { totalCount } }`);
        assert.equal(all.data.webhooks.totalCount, 1);
        assert.equal(receiver.received.length, sent);
      });
    }

    it('still lets the USER read its own webhook and its delivery history', async () => {
      const res = await server.gql(GET, { id: hookId }, user);
      assert.equal(res.errors, undefined, res.text);
      assert.equal(res.data.webhook.id, hookId);
      assert.deepEqual(
        res.data.webhook.deliveries.edges.map((e: Json) => e.node.id),
        [deliveryId],
      );
    });

    it('lets OPS change, test and delete it', async () => {
      const upd = await server.gql(
        `mutation($id: ID!) { updateWebhook(id: $id, input: { description: "by ops" }) { version } }`,
        { id: hookId },
        ops,
      );
      assert.equal(upd.errors, undefined, upd.text);
      assert.equal(upd.data.updateWebhook.version, 0.2);
      const tested = await server.gql(
        `mutation($id: ID!) { testWebhook(id: $id) { status } }`,
        { id: hookId },
        ops,
      );
      assert.equal(tested.errors, undefined, tested.text);
      assert.equal(tested.data.testWebhook.status, 'SUCCEEDED');
      const del = await server.gql(`mutation($id: ID!) { deleteWebhook(id: $id) }`, { id: hookId }, ops);
      assert.equal(del.errors, undefined, del.text);
    });
  });

  describe(`HOOKLINE_USERS_MANAGE_WEBHOOKS left out or true: a USER manages its own (${backend.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer(backend, { HOOKLINE_USERS_MANAGE_WEBHOOKS: 'true' });
    });
    after(async () => server?.stop());

    it('lets a USER create, change and delete its webhook', async () => {
      const user = (await server.gql(TOKEN, { name: 'alice', role: 'USER' })).data.createApiToken;
      const created = await server.gql(CREATE, { input: makeWebhookInput() }, user);
      assert.equal(created.errors, undefined, created.text);
      const id = created.data.createWebhook.id;
      const upd = await server.gql(
        `mutation($id: ID!) { updateWebhook(id: $id, input: { description: "mine" }) { version } }`,
        { id },
        user,
      );
      assert.equal(upd.errors, undefined, upd.text);
      const del = await server.gql(`mutation($id: ID!) { deleteWebhook(id: $id) }`, { id }, user);
      assert.equal(del.errors, undefined, del.text);
    });
  });
}
