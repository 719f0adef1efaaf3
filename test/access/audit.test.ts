import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { createWebhook } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { collect, subscriptionsOpen, wsClient } from '../helpers/live.js';
import { eventually, type Receiver, startReceiver } from '../helpers/receiver.js';
import { ADMIN_TOKEN, startServer, type TestServer } from '../helpers/server.js';

// The audit-log JSON Schema published in Kpow's webhook documentation.
const schema = JSON.parse(
  readFileSync(new URL('../fixtures/kpow-audit.schema.json', import.meta.url), 'utf8'),
);
const validator = new Ajv({ allErrors: true }).compile(schema);
const validate = (record: unknown): boolean => validator(record);

for (const backend of backends()) {
  describe(`audit events and token revocation (${backend.name})`, () => {
    let server: TestServer;
    let mutations: Receiver;
    let everything: Receiver;
    before(async () => {
      server = await startServer(backend);
      mutations = await startReceiver();
      everything = await startReceiver();
      await createWebhook(server, {
        name: 'audit-mutations',
        verbosity: 'MUTATIONS',
        config: { endpoint: `${mutations.url}/m` },
      });
    });
    after(async () => {
      await mutations?.close();
      await everything?.close();
      await server?.stop();
    });

    const recordsFor = (r: Receiver, eventType: string) =>
      r.received.map((x) => x.json).filter((j) => j?.event_type === eventType);

    it('publishes a mutation as a Kpow audit record, without the secrets it carried', async () => {
      const res = await server.gql(
        `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`,
        {
          input: makeWebhookInput({
            name: 'audited',
            config: {
              endpoint: 'https://a.example.com/x',
              secretKey: 'audit-secret-xyz-123',
              headers: [{ name: 'X-K', value: 'audit-header-secret', secret: true }],
            },
          }),
        },
      );
      const id = res.data.createWebhook.id;
      await mutations.waitFor(() => recordsFor(mutations, 'createWebhook').some((r) => r.resource_id === id));
      const record = recordsFor(mutations, 'createWebhook').find((r) => r.resource_id === id);
      assert.ok(validate(record), JSON.stringify(validator.errors));
      assert.equal(record.via, 'api');
      assert.equal(record.tenant_id, 'default');
      assert.equal(record.cluster_id, 'hookline');
      assert.equal(record.is_staged, false);
      assert.deepEqual(record.subjects, ['createWebhook']);
      assert.deepEqual(record.user, { name: 'admin', roles: ['ADMIN'] });
      assert.equal(record.error, undefined);
      assert.ok(Math.abs(record.ts - Date.now()) < 60_000);
      const all = mutations.received.map((x) => x.body).join('\n');
      assert.equal(all.includes('audit-secret-xyz-123'), false);
      assert.equal(all.includes('audit-header-secret'), false);
    });

    it('records a failed mutation with its error, and says when the request came from the UI', async () => {
      const id = await createWebhook(server, { config: { endpoint: 'https://a.example.com/y' } });
      const bad = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${ADMIN_TOKEN}`,
          'x-hookline-via': 'ui',
        },
        body: JSON.stringify({
          query: `mutation($id: ID!) { updateWebhook(id: $id, input: { batchSize: 0 }) { id } }`,
          variables: { id },
        }),
      });
      assert.equal(((await bad.json()) as any).errors[0].extensions.code, 'BAD_USER_INPUT');
      await mutations.waitFor(() => recordsFor(mutations, 'updateWebhook').some((r) => r.resource_id === id));
      const record = recordsFor(mutations, 'updateWebhook').find((r) => r.resource_id === id);
      assert.ok(validate(record), JSON.stringify(validator.errors));
      assert.equal(record.via, 'ui');
      assert.equal(record.error.type, 'BAD_USER_INPUT');
      assert.match(record.error.message, /batchSize/);
      assert.equal(record.error.required_action, 'correct batchSize and send the request again');
      // Hookline stages nothing, so no mutation has a Kpow schedule.
      assert.equal(record.schedule, undefined);
    });

    it("gives a refused mutation's remedy as error.required_action, and none to a success", async () => {
      const id = await createWebhook(server, { config: { endpoint: 'https://a.example.com/z' } });
      const stale = await server.gql(
        `mutation($id: ID!) { updateWebhook(id: $id, expectedVersion: 0.5, input: { description: "x" }) { id } }`,
        { id },
      );
      assert.equal(stale.errors?.[0]?.extensions?.code, 'CONFLICT', stale.text);
      const taken = await server.gql(
        `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`,
        {
          input: makeWebhookInput({ name: 'audit-mutations' }),
        },
      );
      assert.equal(taken.errors?.[0]?.extensions?.code, 'CONFLICT', taken.text);
      const user = (await server.gql(`mutation { createApiToken(name: "ursula", role: USER) }`)).data
        .createApiToken;
      const forbidden = await server.gql(`mutation { createApiToken(name: "x", role: ADMIN) }`, {}, user);
      assert.equal(forbidden.errors?.[0]?.extensions?.code, 'FORBIDDEN', forbidden.text);

      await mutations.waitFor(
        () =>
          recordsFor(mutations, 'updateWebhook').some((r) => r.resource_id === id && r.error) &&
          recordsFor(mutations, 'createWebhook').some((r) => r.error?.type === 'CONFLICT') &&
          recordsFor(mutations, 'createApiToken').some((r) => r.error?.type === 'FORBIDDEN'),
      );
      const conflict = recordsFor(mutations, 'updateWebhook').find((r) => r.resource_id === id && r.error);
      assert.ok(validate(conflict), JSON.stringify(validator.errors));
      assert.equal(
        conflict.error.required_action,
        'read the webhook again (it is at version 0.1) and retry with that expectedVersion',
      );
      const name = recordsFor(mutations, 'createWebhook').find((r) => r.error?.type === 'CONFLICT');
      assert.equal(name.error.required_action, 'choose another name');
      const role = recordsFor(mutations, 'createApiToken').find((r) => r.error?.type === 'FORBIDDEN');
      assert.ok(validate(role), JSON.stringify(validator.errors));
      assert.equal(role.error.required_action, 'send the request with a token whose role may do this');
      const created = recordsFor(mutations, 'createApiToken').find((r) => !r.error);
      assert.ok(created, 'the successful createApiToken is recorded');
      assert.equal('required_action' in created, false);
      assert.equal(created.schedule, undefined);
    });

    it('publishes queries only to webhooks with verbosity QUERIES or ALL', async () => {
      await createWebhook(server, {
        name: 'audit-all',
        verbosity: 'ALL',
        config: { endpoint: `${everything.url}/all` },
      });
      await server.gql(`{ webhooks(first: 1) { totalCount } }`);
      await everything.waitFor(() => recordsFor(everything, 'webhooks').length > 0);
      const record = recordsFor(everything, 'webhooks')[0];
      assert.ok(validate(record), JSON.stringify(validator.errors));
      assert.deepEqual(record.subjects, ['webhooks']);
      // The MUTATIONS webhook saw the next mutation but none of the queries.
      await server.gql(`mutation { publishEvent(input: { eventType: "audit.marker" }) { id } }`);
      await mutations.waitFor(() => recordsFor(mutations, 'publishEvent').length > 0);
      assert.deepEqual(recordsFor(mutations, 'webhooks'), []);
    });

    it('refuses a revoked token at once, and closes its open subscription', async () => {
      const made = await server.gql(`mutation { createApiToken(name: "short-lived", role: OPS) }`);
      const token = made.data.createApiToken as string;
      assert.match(token, /^hk_/);
      assert.equal((await server.gql('{ me { role } }', {}, token)).data.me.role, 'OPS');
      const client = wsClient(server.url, token);
      const closed = new Promise<number>((resolve) =>
        client.on('closed', (e) => resolve((e as { code: number }).code)),
      );
      const sub = collect(client, 'subscription { deliveryLogs { id } }');
      await subscriptionsOpen(server.url, 1);

      const tokens = await server.gql('{ apiTokens { id name revokedAt } }');
      const id = tokens.data.apiTokens.find((t: any) => t.name === 'short-lived').id;
      const revoked = await server.gql('mutation($id: ID!) { revokeApiToken(id: $id) }', { id });
      assert.equal(revoked.data.revokeApiToken, true);
      assert.equal((await server.gql('{ me { role } }', {}, token)).status, 401);
      assert.equal(await closed, 4403);
      await sub.done;
      await eventually(async () =>
        (await server.gql('{ apiTokens { name revokedAt } }')).data.apiTokens.find(
          (t: any) => t.name === 'short-lived',
        ).revokedAt
          ? true
          : undefined,
      );
      await client.dispose();
    });
  });
}
