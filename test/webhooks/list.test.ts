import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { startServer, type TestServer } from '../helpers/server.js';

const LIST = `query($first: Int, $after: String, $last: Int, $before: String, $filter: WebhookFilter) {
  webhooks(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    totalCount edges { cursor node { id name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;

const types = ['GENERIC', 'SLACK', 'MSTEAMS', 'DISCORD', 'WECOM'];
const domains = ['Sales', 'Marketing', null];

interface Seed {
  name: string;
  webhookType: string;
  owner: string;
  domain: string | null;
  gold: boolean;
  enabled: boolean;
  payments: boolean;
  deleted: boolean;
}

const seeds: Seed[] = Array.from({ length: 250 }, (_, i) => ({
  name: `list-${String(i).padStart(3, '0')}`,
  webhookType: types[i % 5] as string,
  owner: i % 2 ? 'team-a' : 'team-b',
  domain: domains[i % 3] ?? null,
  gold: i % 4 === 0,
  enabled: i % 7 !== 0,
  payments: i % 10 === 0,
  deleted: i % 50 === 1,
}));

for (const backend of backends()) {
  describe(`Listing and paging 250 webhooks (${backend.name})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startServer(backend);
      const inputs = seeds.map((s) =>
        makeWebhookInput({
          name: s.name,
          webhookType: s.webhookType,
          owner: { type: 'team', name: s.owner },
          domain: s.domain,
          tags: s.gold ? ['Tier.Gold', 'Integration.Generic'] : ['Integration.Generic'],
          enabled: s.enabled,
          description: s.payments ? 'Forwards PAYMENTS events' : 'forwards catalogue events',
        }),
      );
      for (let i = 0; i < inputs.length; i += 100) {
        const res = await server.gql(
          `mutation($inputs: [CreateWebhookInput!]!) { createWebhooks(inputs: $inputs) { id } }`,
          {
            inputs: inputs.slice(i, i + 100),
          },
        );
        assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      }
      for (const s of seeds.filter((x) => x.deleted)) {
        const { id } = (await server.gql(`query($n: String) { webhook(name: $n) { id } }`, { n: s.name }))
          .data.webhook;
        await server.gql(`mutation($id: ID!) { deleteWebhook(id: $id) }`, { id });
      }
    });
    after(async () => {
      await server?.stop();
    });

    /** Every name the filter yields, read forwards 37 at a time. */
    async function pageForward(filter: Record<string, unknown>) {
      const names: string[] = [];
      let after: string | undefined;
      let total = -1;
      for (let page = 0; page < 20; page++) {
        const res = await server.gql(LIST, { first: 37, after, filter });
        assert.equal(res.errors, undefined, JSON.stringify(res.errors));
        const conn = res.data.webhooks;
        total = conn.totalCount;
        names.push(...conn.edges.map((e: { node: { name: string } }) => e.node.name));
        assert.equal(conn.pageInfo.hasPreviousPage, page > 0);
        if (!conn.pageInfo.hasNextPage) return { names, total };
        after = conn.pageInfo.endCursor;
      }
      throw new Error('paging did not end');
    }

    const cases: [string, Record<string, unknown>, (s: Seed) => boolean][] = [
      ['no filter (soft-deleted hidden)', {}, (s) => !s.deleted],
      ['includeDeleted', { includeDeleted: true }, () => true],
      ['status DISABLED', { status: ['DISABLED'] }, (s) => !s.enabled && !s.deleted],
      ['status ACTIVE', { status: 'ACTIVE' }, (s) => s.enabled && !s.deleted],
      [
        'webhookType SLACK or WECOM',
        { webhookType: ['SLACK', 'WECOM'] },
        (s) => ['SLACK', 'WECOM'].includes(s.webhookType) && !s.deleted,
      ],
      ['owner', { owner: 'team-a' }, (s) => s.owner === 'team-a' && !s.deleted],
      ['domain', { domain: 'Sales' }, (s) => s.domain === 'Sales' && !s.deleted],
      ['tag', { tag: 'Tier.Gold' }, (s) => s.gold && !s.deleted],
      ['text in the description, any case', { text: 'payments' }, (s) => s.payments && !s.deleted],
      ['text in the name', { text: 'list-24' }, (s) => s.name.startsWith('list-24') && !s.deleted],
      ['text with LIKE wildcards matches them literally', { text: 'list_%' }, () => false],
      [
        'several filters together',
        { domain: 'Marketing', tag: 'Tier.Gold', status: ['ACTIVE'], includeDeleted: true },
        (s) => s.domain === 'Marketing' && s.gold && s.enabled,
      ],
    ];

    for (const [label, filter, keep] of cases) {
      it(`filters on ${label} and pages through every match in creation order`, async () => {
        const expected = seeds.filter(keep).map((s) => s.name);
        const { names, total } = await pageForward(filter);
        assert.deepEqual(names, expected);
        assert.equal(total, expected.length);
      });
    }

    it('pages backwards with last and before', async () => {
      const expected = seeds.filter((s) => !s.deleted).map((s) => s.name);
      const names: string[] = [];
      let before: string | undefined;
      for (let page = 0; page < 20; page++) {
        const res = await server.gql(LIST, { last: 50, before });
        const conn = res.data.webhooks;
        names.unshift(...conn.edges.map((e: { node: { name: string } }) => e.node.name));
        if (!conn.pageInfo.hasPreviousPage) break;
        before = conn.pageInfo.startCursor;
      }
      assert.deepEqual(names, expected);
    });

    it('gives 20 by default and at most 100 a page', async () => {
      const first = await server.gql(LIST, {});
      assert.equal(first.data.webhooks.edges.length, 20);
      const big = await server.gql(LIST, { first: 100 });
      assert.equal(big.data.webhooks.edges.length, 100);
      const tooBig = await server.gql(LIST, { first: 101 });
      assert.equal(tooBig.errors?.[0]?.extensions?.field, 'first');
    });
  });
}
