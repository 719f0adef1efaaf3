import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWebhook, deliveryWhen, getDelivery, publish } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { collect, wsClient } from '../helpers/live.js';
import { eventually, type Receiver, startReceiver, statuses } from '../helpers/receiver.js';
import { ADMIN_TOKEN, startServer, type TestServer } from '../helpers/server.js';

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`;

for (const backend of backends()) {
  describe(`who may give a webhook secrets, scope, credentials and an endpoint (${backend.name})`, () => {
    let server: TestServer;
    let receiver: Receiver;
    let tokens: { admin: string; user: string };
    before(async () => {
      server = await startServer(backend);
      receiver = await startReceiver();
      const make = async (name: string, role: string) =>
        (
          await server.gql(`mutation($n: String!, $r: Role!) { createApiToken(name: $n, role: $r) }`, {
            n: name,
            r: role,
          })
        ).data.createApiToken as string;
      tokens = { admin: await make('tenant-admin', 'ADMIN'), user: await make('alice', 'USER') };
    });
    after(async () => {
      await receiver?.close();
      await server?.stop();
    });

    it('lets only the operator read a secret from the server’s environment or files, or use the name env', async () => {
      for (const token of [tokens.admin, tokens.user]) {
        for (const secretFrom of [{ file: '/etc/hostname' }, { env: 'PATH' }]) {
          const res = await server.gql(
            CREATE,
            { input: makeWebhookInput({ config: { endpoint: 'https://a.example.com/', secretFrom } }) },
            token,
          );
          assert.equal(res.errors?.[0]?.extensions?.code, 'FORBIDDEN', JSON.stringify(res.errors));
          assert.equal(res.errors?.[0]?.extensions?.field, 'config.secretFrom');
        }
        const env = await server.gql(CREATE, { input: makeWebhookInput({ name: 'env' }) }, token);
        assert.equal(env.errors?.[0]?.extensions?.field, 'name');
      }
      const operator = await server.gql(
        CREATE,
        {
          input: makeWebhookInput({
            config: { endpoint: 'https://a.example.com/', secretFrom: { env: 'HOOKLINE_TEST_SECRET' } },
          }),
        },
        ADMIN_TOKEN,
      );
      assert.equal(operator.errors, undefined, JSON.stringify(operator.errors));
    });

    it('stops a USER from changing a webhook an ADMIN made global', async () => {
      const id = (await server.gql(CREATE, { input: makeWebhookInput() }, tokens.user)).data.createWebhook.id;
      await server.gql(
        `mutation($id: ID!) { updateWebhook(id: $id, input: { global: true }) { id } }`,
        { id },
        tokens.admin,
      );
      const moved = await server.gql(
        `mutation($id: ID!) { updateWebhook(id: $id, input: { config: { endpoint: "https://evil.example.com/" } }) { id } }`,
        { id },
        tokens.user,
      );
      assert.equal(moved.errors?.[0]?.extensions?.code, 'FORBIDDEN');
      const rotated = await server.gql(
        `mutation($id: ID!) { rotateWebhookSecret(id: $id) }`,
        { id },
        tokens.user,
      );
      assert.equal(rotated.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    });

    it('asks for credentials again when an endpoint moves to another host', async () => {
      const id = await createWebhook(server, {
        config: {
          endpoint: 'https://one.example.com/x',
          httpAuth: { type: 'BEARER', token: 'token-for-one' },
          headers: [{ name: 'X-Key', value: 'k1', secret: true }],
        },
        eventFilters: [{ eventTypes: ['never'] }],
      });
      const update = `mutation($id: ID!, $c: UpdateWebhookConfigInput) { updateWebhook(id: $id, input: { config: $c }) { version } }`;
      const away = await server.gql(update, { id, c: { endpoint: 'https://two.example.com/x' } });
      assert.equal(away.errors?.[0]?.extensions?.field, 'config.httpAuth');
      const noHeader = await server.gql(update, {
        id,
        c: { endpoint: 'https://two.example.com/x', httpAuth: { type: 'NONE' } },
      });
      assert.equal(noHeader.errors?.[0]?.extensions?.field, 'config.headers');
      const samePlace = await server.gql(update, {
        id,
        c: { endpoint: 'https://one.example.com/other-path' },
      });
      assert.equal(samePlace.errors, undefined, 'a new path on the same host keeps them');
    });

    it('refuses the IPv4-compatible form of loopback and credentials however the URL spells them', async () => {
      const strict = await startServer(backend, { HOOKLINE_ALLOW_PRIVATE_TARGETS: '' });
      try {
        for (const [endpoint, code] of [
          ['http://[::127.0.0.1]/x', 'TARGET_NOT_ALLOWED'],
          ['http:user:pass@hooks.example.com/x', 'BAD_USER_INPUT'],
        ] as const) {
          const res = await strict.gql(CREATE, { input: makeWebhookInput({ config: { endpoint } }) });
          assert.equal(res.errors?.[0]?.extensions?.code, code, endpoint);
        }
      } finally {
        await strict.stop();
      }
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

    it('fails one bad subscription over graphql-ws without closing the others on the socket', async () => {
      const client = wsClient(server.url);
      const good = collect(client, `subscription { webhookStatusChanged { id status } }`);
      const bad = collect(client, `subscription { webhookStatusChanged { id `);
      await bad.done;
      assert.ok(bad.errors.length > 0);
      const id = await createWebhook(server, {
        config: { endpoint: `${receiver.url}/ws` },
        eventFilters: [{ eventTypes: ['never'] }],
      });
      await server.gql(`mutation($id: ID!) { updateWebhook(id: $id, input: { enabled: false }) { id } }`, {
        id,
      });
      await eventually(
        async () => (good.items.length > 0 ? true : undefined),
        10_000,
        'the good subscription still delivers',
      );
      good.stop();
      await client.dispose();
    });

    it('keeps delivering to healthy webhooks past a FAILED webhook’s backlog, and restarts it when it is changed', async () => {
      const gone = await startReceiver(statuses(410));
      try {
        const deadId = await createWebhook(server, {
          config: { endpoint: `${gone.url}/gone` },
          eventFilters: [{ eventTypes: ['backlog'] }],
        });
        const first = await publish(server, { eventType: 'backlog' });
        await deliveryWhen(server, first.deliveries[0]!.id, (d) => d.webhook.status === 'FAILED');
        for (let i = 0; i < 2; i++) {
          await server.gql(
            `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`,
            {
              inputs: Array.from({ length: 600 }, () => ({ eventType: 'backlog' })),
            },
          );
        }
        const okType = `healthy.${Date.now()}`;
        await createWebhook(server, {
          config: { endpoint: `${receiver.url}/healthy` },
          eventFilters: [{ eventTypes: [okType] }],
        });
        const ok = await publish(server, { eventType: okType });
        await deliveryWhen(server, ok.deliveries[0]!.id, (d) => d.status === 'SUCCEEDED', 15_000);
        const fixed = await server.gql(
          `mutation($id: ID!) { updateWebhook(id: $id, input: { description: "fixed" }) { status } }`,
          { id: deadId },
        );
        assert.equal(fixed.data.updateWebhook.status, 'ACTIVE');
      } finally {
        await gone.close();
      }
    });

    it('starts the discard window again when a delivery is retried by hand', async () => {
      const r = await startReceiver(statuses(400, 200));
      try {
        await createWebhook(server, {
          config: { endpoint: `${r.url}/late` },
          retryPolicy: { discardAfterSeconds: 1 },
          eventFilters: [{ eventTypes: ['late'] }],
        });
        const event = await publish(server, { eventType: 'late' });
        const id = event.deliveries[0]!.id;
        await deliveryWhen(server, id, (d) => d.status === 'FAILED');
        // Past the window since creation: a hand retry still gets its own second.
        await new Promise((resolve) => setTimeout(resolve, 1200));
        await server.gql(`mutation($id: ID!) { retryDelivery(id: $id) { id } }`, { id });
        const done = await deliveryWhen(
          server,
          id,
          (d) => d.status === 'SUCCEEDED' || d.status === 'DISCARDED',
        );
        assert.equal(done.status, 'SUCCEEDED');
        assert.equal((await getDelivery(server, id)).attemptCount, 2);
      } finally {
        await r.close();
      }
    });
  });
}
