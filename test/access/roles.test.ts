import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { stableJson } from '../../src/webhooks/changes.js';
import { backends } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { ADMIN_TOKEN, type GqlResponse, startServer, type TestServer } from '../helpers/server.js';

type Role = 'ADMIN' | 'OPS' | 'USER';
type Target = 'own' | 'other user' | 'other tenant';
type Outcome = 'allowed' | 'FORBIDDEN' | 'NOT_FOUND';

interface World {
  tokens: Record<Role | 'OTHER_ADMIN', string>;
  /** Webhooks by who may see them: alice's (the USER's), bob's, a team's, and one in tenant t2. */
  hooks: { alice: string; bob: string; team: string; foreign: string };
  deliveries: { alice: string; bob: string; team: string; foreign: string };
  events: { alice: string; bob: string; foreign: string };
}

/** The object each role acts on, for each target. A USER's own object is its webhook. */
function targetOf(world: World, role: Role, target: Target) {
  if (target === 'other tenant')
    return { hook: world.hooks.foreign, delivery: world.deliveries.foreign, event: world.events.foreign };
  if (role === 'USER') {
    return target === 'own'
      ? { hook: world.hooks.alice, delivery: world.deliveries.alice, event: world.events.alice }
      : { hook: world.hooks.bob, delivery: world.deliveries.bob, event: world.events.bob };
  }
  // ADMIN and OPS have no "own": everything of their tenant is theirs to manage.
  return target === 'own'
    ? { hook: world.hooks.team, delivery: world.deliveries.team, event: world.events.alice }
    : { hook: world.hooks.bob, delivery: world.deliveries.bob, event: world.events.bob };
}

const outcomeOf = (res: GqlResponse<any>, field: string): Outcome | 'null' => {
  const code = res.errors?.[0]?.extensions?.code;
  if (code === 'FORBIDDEN' || code === 'NOT_FOUND') return code;
  if (res.errors?.length) throw new Error(`unexpected error: ${JSON.stringify(res.errors)}`);
  return res.data?.[field] === null ? 'null' : 'allowed';
};

/** Reads on an id answer null for what the caller may not see; that is NOT_FOUND to a client. */
const asOutcome = (o: Outcome | 'null'): Outcome => (o === 'null' ? 'NOT_FOUND' : o);

interface Operation {
  name: string;
  field: string;
  query: string;
  vars: (t: ReturnType<typeof targetOf>) => Record<string, unknown>;
  /** The outcome by role, for an object in reach (own, or of the tenant for ADMIN/OPS). */
  own: Record<Role, Outcome>;
  /** Whether the role reaches another user's object of its tenant. */
  otherUser: Record<Role, Outcome>;
  mutates?: boolean;
}

const any: Record<Role, Outcome> = { ADMIN: 'allowed', OPS: 'allowed', USER: 'allowed' };
const notUser: Record<Role, Outcome> = { ADMIN: 'allowed', OPS: 'allowed', USER: 'NOT_FOUND' };
const userForbidden: Record<Role, Outcome> = { ADMIN: 'allowed', OPS: 'allowed', USER: 'FORBIDDEN' };

const operations: Operation[] = [
  {
    name: 'webhook(id)',
    field: 'webhook',
    query: 'query($id: ID) { webhook(id: $id) { id } }',
    vars: (t) => ({ id: t.hook }),
    own: any,
    otherUser: notUser,
  },
  {
    name: 'node(id)',
    field: 'node',
    query: 'query($id: ID!) { node(id: $id) { id } }',
    vars: (t) => ({ id: t.hook }),
    own: any,
    otherUser: notUser,
  },
  {
    name: 'deliveries',
    field: 'deliveries',
    query: 'query($w: ID) { deliveries(webhookId: $w) { totalCount edges { node { id } } } }',
    vars: (t) => ({ w: t.hook }),
    own: any,
    otherUser: notUser,
  },
  {
    name: 'delivery(id)',
    field: 'delivery',
    query: 'query($id: ID!) { delivery(id: $id) { id webhook { id } } }',
    vars: (t) => ({ id: t.delivery }),
    own: any,
    otherUser: notUser,
  },
  {
    name: 'event(id)',
    field: 'event',
    query: 'query($id: ID!) { event(id: $id) { id deliveries { id } } }',
    vars: (t) => ({ id: t.event }),
    own: any,
    otherUser: notUser,
  },
  {
    name: 'previewPayload',
    field: 'previewPayload',
    query: 'query($w: ID!) { previewPayload(webhookId: $w, event: { eventType: "x" }) { body } }',
    vars: (t) => ({ w: t.hook }),
    own: any,
    otherUser: notUser,
  },
  {
    name: 'updateWebhook',
    field: 'updateWebhook',
    query:
      'mutation($id: ID!) { updateWebhook(id: $id, input: { description: "changed by the test" }) { id } }',
    vars: (t) => ({ id: t.hook }),
    own: any,
    otherUser: notUser,
    mutates: true,
  },
  {
    name: 'rotateWebhookSecret',
    field: 'rotateWebhookSecret',
    query: 'mutation($id: ID!) { rotateWebhookSecret(id: $id) }',
    vars: (t) => ({ id: t.hook }),
    own: any,
    otherUser: notUser,
    mutates: true,
  },
  {
    name: 'testWebhook',
    field: 'testWebhook',
    query: 'mutation($id: ID!) { testWebhook(id: $id) { id } }',
    vars: (t) => ({ id: t.hook }),
    own: any,
    otherUser: notUser,
    mutates: true,
  },
  {
    name: 'retryDelivery',
    field: 'retryDelivery',
    query: 'mutation($id: ID!) { retryDelivery(id: $id) { id } }',
    vars: (t) => ({ id: t.delivery }),
    own: any,
    otherUser: notUser,
    mutates: true,
  },
  {
    name: 'replayDeliveries',
    field: 'replayDeliveries',
    query: 'mutation($w: ID!) { replayDeliveries(webhookId: $w) }',
    vars: (t) => ({ w: t.hook }),
    own: any,
    otherUser: notUser,
    mutates: true,
  },
  {
    name: 'deleteWebhook (soft)',
    field: 'deleteWebhook',
    query: 'mutation($id: ID!) { deleteWebhook(id: $id) }',
    vars: (t) => ({ id: t.hook }),
    own: any,
    otherUser: notUser,
    mutates: true,
  },
  {
    name: 'restoreWebhook',
    field: 'restoreWebhook',
    query: 'mutation($id: ID!) { restoreWebhook(id: $id) { id } }',
    vars: (t) => ({ id: t.hook }),
    own: any,
    otherUser: notUser,
    mutates: true,
  },
  {
    name: 'publishEvent',
    field: 'publishEvent',
    query: 'mutation { publishEvent(input: { eventType: "access.probe" }) { id } }',
    vars: () => ({}),
    own: userForbidden,
    otherUser: userForbidden,
    mutates: true,
  },
  {
    name: 'apiTokens',
    field: 'apiTokens',
    query: '{ apiTokens { id } }',
    vars: () => ({}),
    own: { ADMIN: 'allowed', OPS: 'FORBIDDEN', USER: 'FORBIDDEN' },
    otherUser: { ADMIN: 'allowed', OPS: 'FORBIDDEN', USER: 'FORBIDDEN' },
  },
];

for (const backend of backends()) {
  describe(`access control: roles and tenants (${backend.name})`, () => {
    let server: TestServer;
    let receiver: Receiver;
    const world = {} as World;

    const as =
      (token: string) =>
      (query: string, vars: Record<string, unknown> = {}) =>
        server.gql(query, vars, token);

    before(async () => {
      server = await startServer(backend);
      receiver = await startReceiver();
      const admin = as(ADMIN_TOKEN);
      const token = async (name: string, role: Role, tenantId?: string) => {
        const res = await admin(
          `mutation($n: String!, $r: Role!, $t: String) { createApiToken(name: $n, role: $r, tenantId: $t) }`,
          {
            n: name,
            r: role,
            t: tenantId,
          },
        );
        assert.equal(res.errors, undefined, JSON.stringify(res.errors));
        return res.data.createApiToken as string;
      };
      world.tokens = {
        ADMIN: ADMIN_TOKEN,
        OPS: await token('ops-bot', 'OPS'),
        USER: await token('alice', 'USER'),
        OTHER_ADMIN: await token('admin-of-t2', 'ADMIN', 't2'),
      };
      const bob = await token('bob', 'USER');
      const create = async (tok: string, input: Record<string, unknown>) => {
        const res = await as(tok)(
          `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id personal owner { name } } }`,
          { input },
        );
        assert.equal(res.errors, undefined, JSON.stringify(res.errors));
        return res.data.createWebhook;
      };
      const hook = (name: string) =>
        makeWebhookInput({
          name,
          config: { endpoint: `${receiver.url}/${name}` },
          eventFilters: [{ eventTypes: ['access.seed'] }],
        });
      const alice = await create(world.tokens.USER, hook('alice-hook'));
      assert.deepEqual([alice.personal, alice.owner.name], [true, 'alice']);
      world.hooks = {
        alice: alice.id,
        bob: (await create(bob, hook('bob-hook'))).id,
        team: (await create(ADMIN_TOKEN, { ...hook('team-hook'), owner: { type: 'team', name: 'DataOps' } }))
          .id,
        foreign: (await create(world.tokens.OTHER_ADMIN, hook('t2-hook'))).id,
      };
      // Alice's and Bob's personal webhooks hear of entities they own.
      const publish = async (tok: string, owner: string) => {
        const res = await as(tok)(
          `mutation($d: JSON) { publishEvent(input: { eventType: "access.seed", entityType: "table", data: $d }) { id deliveries { id webhook { id } } } }`,
          {
            d: { owner: { type: 'user', name: owner } },
          },
        );
        assert.equal(res.errors, undefined, JSON.stringify(res.errors));
        return res.data.publishEvent;
      };
      const forAlice = await publish(world.tokens.OPS, 'alice');
      const forBob = await publish(world.tokens.OPS, 'bob');
      const foreign = await publish(world.tokens.OTHER_ADMIN, 'carol');
      const deliveryTo = (e: any, hookId: string) =>
        e.deliveries.find((d: any) => d.webhook.id === hookId)?.id;
      world.deliveries = {
        alice: deliveryTo(forAlice, world.hooks.alice),
        bob: deliveryTo(forBob, world.hooks.bob),
        team: deliveryTo(forAlice, world.hooks.team),
        foreign: deliveryTo(foreign, world.hooks.foreign),
      };
      world.events = { alice: forAlice.id, bob: forBob.id, foreign: foreign.id };
      assert.equal(
        deliveryTo(forAlice, world.hooks.bob),
        undefined,
        "bob's personal webhook skips alice's entity",
      );
      for (const [k, v] of Object.entries(world.deliveries)) assert.ok(v, `a delivery for ${k}`);
      await receiver.waitForCount(4);
    });
    after(async () => {
      await receiver?.close();
      await server?.stop();
    });

    /** Webhooks, deliveries and tokens of both tenants (delivery states move on by themselves, ids do not). */
    const snapshot = async () => {
      const q = `{ webhooks(first: 100, filter: { includeDeleted: true }) { edges { node { id version deleted } } }
        deliveries(first: 100) { totalCount edges { node { id } } } apiTokens { id revokedAt } }`;
      const mine = await as(ADMIN_TOKEN)(q);
      const foreign = await as(world.tokens.OTHER_ADMIN)(q);
      return stableJson([mine.data, foreign.data]);
    };

    for (const op of operations) {
      for (const role of ['ADMIN', 'OPS', 'USER'] as Role[]) {
        for (const target of ['own', 'other user', 'other tenant'] as Target[]) {
          // Operations on no object (publishEvent, apiTokens) answer the same whatever the target;
          // another tenant's object does not exist for the caller.
          const objectless = ['publishEvent', 'apiTokens'].includes(op.field);
          const expected: Outcome =
            objectless || target === 'own'
              ? op.own[role]
              : target === 'other user'
                ? op.otherUser[role]
                : op.own[role] === 'FORBIDDEN'
                  ? 'FORBIDDEN'
                  : 'NOT_FOUND';
          it(`${op.name} as ${role} on ${target === 'own' ? (role === 'USER' ? 'its own' : 'its tenant’s') : `an ${target}’s`} object: ${expected}`, async () => {
            const t = targetOf(world, role, target);
            const before = op.mutates && expected !== 'allowed' ? await snapshot() : '';
            const res = await as(world.tokens[role])(op.query, op.vars(t));
            let outcome = asOutcome(outcomeOf(res, op.field));
            // A list is scoped to what the caller may see: for a webhook out of reach it is empty.
            if (op.field === 'deliveries' && outcome === 'allowed' && res.data.deliveries.totalCount === 0) {
              outcome = 'NOT_FOUND';
            }
            assert.equal(outcome, expected, JSON.stringify(res.errors ?? res.data));
            if (before) assert.equal(await snapshot(), before, 'a denied request changed something');
            // Restore what a soft delete did, so later cases find the webhook as it was.
            if (op.field === 'deleteWebhook' && outcome === 'allowed') {
              await as(ADMIN_TOKEN)('mutation($id: ID!) { restoreWebhook(id: $id) { id } }', { id: t.hook });
              await as(world.tokens.OTHER_ADMIN)('mutation($id: ID!) { restoreWebhook(id: $id) { id } }', {
                id: t.hook,
              });
            }
          });
        }
      }
    }

    it('lets a USER create only webhooks it owns, and only an ADMIN make one global', async () => {
      const input = (extra: Record<string, unknown>) => ({
        input: makeWebhookInput({ config: { endpoint: `${receiver.url}/x` }, ...extra }),
      });
      const create =
        'mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id owner { type name } global personal } }';
      const before = (await as(ADMIN_TOKEN)('{ webhooks(filter: { includeDeleted: true }) { totalCount } }'))
        .data.webhooks.totalCount;
      const stolen = await as(world.tokens.USER)(create, input({ owner: { type: 'user', name: 'bob' } }));
      assert.equal(stolen.errors?.[0]?.extensions?.code, 'FORBIDDEN');
      assert.equal(stolen.errors?.[0]?.extensions?.field, 'owner');
      for (const role of ['USER', 'OPS'] as Role[]) {
        const global = await as(world.tokens[role])(create, input({ global: true }));
        assert.equal(global.errors?.[0]?.extensions?.code, 'FORBIDDEN', role);
        assert.equal(global.errors?.[0]?.extensions?.field, 'global');
      }
      assert.equal(
        (await as(ADMIN_TOKEN)('{ webhooks(filter: { includeDeleted: true }) { totalCount } }')).data.webhooks
          .totalCount,
        before,
      );
      const mine = await as(world.tokens.USER)(create, input({}));
      assert.deepEqual(mine.data.createWebhook.owner, { type: 'user', name: 'alice' });
      const made = await as(ADMIN_TOKEN)(
        `mutation($id: ID!) { updateWebhook(id: $id, input: { global: true }) { global } }`,
        {
          id: mine.data.createWebhook.id,
        },
      );
      assert.equal(made.data.updateWebhook.global, true);
      const back = await as(world.tokens.USER)(
        `mutation($id: ID!) { updateWebhook(id: $id, input: { global: false }) { global } }`,
        {
          id: mine.data.createWebhook.id,
        },
      );
      assert.equal(back.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    });

    it('shows each role only its share in lists, and tells every caller who it is', async () => {
      const count = async (tok: string) =>
        (await as(tok)('{ webhooks(first: 100) { edges { node { owner { name } } } } }')).data.webhooks.edges;
      const alices = await count(world.tokens.USER);
      assert.ok(alices.length >= 1);
      assert.ok(alices.every((e: any) => e.node.owner.name === 'alice'));
      const t2 = await count(world.tokens.OTHER_ADMIN);
      assert.deepEqual(t2.length, 1);
      const me = await as(world.tokens.USER)('{ me { principal role tenantId tokenId } }');
      assert.equal(me.data.me.principal, 'alice');
      assert.equal(me.data.me.role, 'USER');
      assert.equal(me.data.me.tenantId, 'default');
      assert.match(me.data.me.tokenId, /^tok_/);
      const other = await as(world.tokens.OTHER_ADMIN)('{ me { role tenantId } }');
      assert.deepEqual(other.data.me, { role: 'ADMIN', tenantId: 't2' });
    });

    it('keeps tokens to their tenant: an ADMIN of t2 cannot make or see tokens of another tenant', async () => {
      const res = await as(world.tokens.OTHER_ADMIN)(
        'mutation { createApiToken(name: "x", role: USER, tenantId: "default") }',
      );
      assert.equal(res.errors?.[0]?.extensions?.code, 'FORBIDDEN');
      const list = await as(world.tokens.OTHER_ADMIN)('{ apiTokens { name tenantId } }');
      assert.deepEqual(
        list.data.apiTokens.map((t: any) => t.tenantId),
        ['t2'],
      );
      const mine = await as(ADMIN_TOKEN)('{ apiTokens { id name } }');
      const opsToken = mine.data.apiTokens.find((t: any) => t.name === 'ops-bot');
      const revoke = await as(world.tokens.OTHER_ADMIN)('mutation($id: ID!) { revokeApiToken(id: $id) }', {
        id: opsToken.id,
      });
      assert.equal(revoke.errors?.[0]?.extensions?.code, 'NOT_FOUND');
      assert.equal((await as(world.tokens.OPS)('{ me { role } }')).data.me.role, 'OPS', 'still valid');
    });
  });
}
