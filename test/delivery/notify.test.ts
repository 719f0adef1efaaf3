import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';

const EVENT = 'notify.changed';
/** What the people's own webhooks listen to: never the event above, so only a flag brings it. */
const ELSEWHERE = [{ eventTypes: ['notify.elsewhere'] }];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const backend of backends()) {
  describe(`sendToAdmins / sendToOwners / sendToFollowers (${backend.name})`, () => {
    let server: TestServer;
    const receivers: Receiver[] = [];
    const tokens: Record<string, string> = {};
    /** Webhook ids and receivers: the tenant's notifying one and each person's own. */
    const hooks: Record<string, { id: string; receiver: Receiver }> = {};

    const gqlOk = async (query: string, variables: Record<string, unknown>, token?: string) => {
      const res = await server.gql(query, variables, token);
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      return res.data as any;
    };
    const create = async (key: string, input: Record<string, unknown>, token?: string) => {
      const receiver = await startReceiver();
      receivers.push(receiver);
      const data = await gqlOk(
        `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id personal } }`,
        {
          input: makeWebhookInput({
            name: `n-${key}`,
            config: { endpoint: `${receiver.url}/${key}` },
            ...input,
          }),
        },
        token,
      );
      hooks[key] = { id: data.createWebhook.id, receiver };
      return data.createWebhook;
    };
    const setFlags = (key: string, config: Record<string, boolean>) =>
      gqlOk(
        `mutation($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) { id } }`,
        {
          id: hooks[key]!.id,
          input: { config },
        },
      );
    /** Publishes one event about an entity alice owns and bob follows; returns who got a delivery. */
    const publishAbout = async (entityId: string) => {
      const data = await gqlOk(
        `mutation($input: PublishEventInput!) { publishEvent(input: $input) { deliveries { webhook { id } } } }`,
        {
          input: {
            eventType: EVENT,
            entityType: 'table',
            entityId,
            data: { owner: { type: 'user', name: 'alice' }, followers: [{ type: 'user', name: 'bob' }] },
          },
        },
      );
      const ids: string[] = data.publishEvent.deliveries.map((d: any) => d.webhook.id);
      const keys = Object.entries(hooks)
        .filter(([, h]) => ids.includes(h.id))
        .map(([k]) => k);
      assert.equal(ids.length, keys.length, `one delivery per webhook: ${JSON.stringify(ids)}`);
      return keys.sort();
    };
    /** The entity ids a webhook's receiver got, sorted (once all `expected` are in). */
    const got = async (key: string, expected: number) => {
      const { receiver } = hooks[key]!;
      await receiver.waitForCount(expected, 20_000);
      return receiver.received.map((r) => r.json?.entity?.id as string).sort();
    };

    before(async () => {
      server = await startServer(backend);
      for (const [name, role] of [
        ['root', 'ADMIN'],
        ['alice', 'USER'],
        ['bob', 'USER'],
        ['carol', 'USER'],
      ] as const) {
        tokens[name] = (
          await gqlOk(`mutation($n: String!, $r: Role!) { createApiToken(name: $n, role: $r) }`, {
            n: name,
            r: role,
          })
        ).createApiToken;
      }
      // The tenant's webhook whose flags are under test, made by the operator.
      await create('tenant', { eventFilters: [{ eventTypes: [EVENT] }] });
      // Each person's own webhook; the ADMIN's is one an ADMIN makes with itself as owner.
      for (const user of ['alice', 'bob', 'carol']) {
        const made = await create(user, { eventFilters: ELSEWHERE }, tokens[user]);
        assert.equal(made.personal, true);
      }
      await create('root', { eventFilters: ELSEWHERE, owner: { type: 'user', name: 'root' } }, tokens.root);
    });
    after(async () => {
      await server?.stop();
      for (const r of receivers) await r.close();
    });

    it('with every flag off, the event reaches only the webhooks that match it', async () => {
      assert.deepEqual(await publishAbout('t-off'), ['tenant']);
    });

    it('each flag adds the webhooks of the people it names, and they receive the event', async () => {
      await setFlags('tenant', { sendToOwners: true });
      assert.deepEqual(await publishAbout('t-owners'), ['alice', 'tenant']);
      await setFlags('tenant', { sendToOwners: false, sendToFollowers: true });
      assert.deepEqual(await publishAbout('t-followers'), ['bob', 'tenant']);
      await setFlags('tenant', { sendToFollowers: false, sendToAdmins: true });
      assert.deepEqual(await publishAbout('t-admins'), ['root', 'tenant']);
      await setFlags('tenant', { sendToOwners: true, sendToFollowers: true });
      assert.deepEqual(await publishAbout('t-all'), ['alice', 'bob', 'root', 'tenant']);

      assert.deepEqual(await got('alice', 2), ['t-all', 't-owners']);
      assert.deepEqual(await got('bob', 2), ['t-all', 't-followers']);
      assert.deepEqual(await got('root', 2), ['t-admins', 't-all']);
      assert.deepEqual(await got('tenant', 5), ['t-admins', 't-all', 't-followers', 't-off', 't-owners']);
      // Nothing more arrives, and carol (neither owner, follower nor ADMIN) never hears of it.
      await sleep(300);
      for (const [key, n] of [
        ['alice', 2],
        ['bob', 2],
        ['root', 2],
        ['carol', 0],
      ] as const) {
        assert.equal(hooks[key]!.receiver.received.length, n, `${key} got ${n}`);
      }
      await setFlags('tenant', { sendToAdmins: false, sendToOwners: false, sendToFollowers: false });
      assert.deepEqual(await publishAbout('t-off-again'), ['tenant']);
    });

    it('a webhook named by several flags or several notifying webhooks gets the event once', async () => {
      await create('second', { eventFilters: [{ eventTypes: [EVENT] }] });
      await setFlags('second', { sendToOwners: true, sendToAdmins: true });
      await setFlags('tenant', { sendToOwners: true, sendToFollowers: true });
      // alice is owner for both webhooks; she also follows this one.
      const data = await gqlOk(
        `mutation($input: PublishEventInput!) { publishEvent(input: $input) { deliveries { webhook { id } } } }`,
        {
          input: {
            eventType: EVENT,
            entityId: 't-twice',
            data: { owners: ['alice'], followers: ['alice', 'bob'] },
          },
        },
      );
      const ids: string[] = data.publishEvent.deliveries.map((d: any) => d.webhook.id);
      assert.equal(new Set(ids).size, ids.length, 'no webhook twice');
      const keys = Object.entries(hooks)
        .filter(([, h]) => ids.includes(h.id))
        .map(([k]) => k)
        .sort();
      assert.deepEqual(keys, ['alice', 'bob', 'root', 'second', 'tenant']);
      await setFlags('tenant', { sendToOwners: false, sendToFollowers: false });
      await setFlags('second', { sendToOwners: false, sendToAdmins: false });
    });

    it("refuses the flags on a USER's personal webhook: who else is notified is the tenant's call", async () => {
      for (const flag of ['sendToAdmins', 'sendToOwners', 'sendToFollowers']) {
        const res = await server.gql(
          `mutation($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) { id } }`,
          { id: hooks.alice!.id, input: { config: { [flag]: true } } },
          tokens.alice,
        );
        assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', flag);
        assert.equal(res.errors?.[0]?.extensions?.field, `config.${flag}`);
      }
    });
  });
}
