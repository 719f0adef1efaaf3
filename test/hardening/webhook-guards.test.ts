import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWebhook } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { ADMIN_TOKEN, startServer, type TestServer } from '../helpers/server.js';

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`;

for (const backend of backends()) {
  describe(`who may give a webhook secrets, scope, credentials and an endpoint (${backend.name})`, () => {
    let server: TestServer;
    let tokens: { admin: string; user: string };
    before(async () => {
      server = await startServer(backend);
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
  });
}
