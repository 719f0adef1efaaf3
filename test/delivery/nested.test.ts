import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends, postgresUrl } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { eventually, type Receiver, type Responder, startReceiver } from '../helpers/receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { startStatementCounter } from '../helpers/statements.js';

/** Connections of one webhook, asked the same way whether it is read alone or in a list. */
const CONNECTIONS = {
  newest: 'first: 2',
  oldest: 'last: 2',
  failed: 'first: 2, status: [FAILED]',
  older: 'first: 2, after: $after',
};
const ALIASES = Object.keys(CONNECTIONS);
const PAGE =
  'edges { cursor node { id status } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }';
const deliveries = (counted: string[]) =>
  Object.entries(CONNECTIONS)
    .map(
      ([alias, args]) =>
        `${alias}: deliveries(${args}) { ${counted.includes(alias) ? 'totalCount' : ''} ${PAGE} }`,
    )
    .join('\n');
const list = (fields: string) =>
  `query($first: Int!, $after: String) { webhooks(first: $first) { edges { node { id ${fields} } } } }`;
const LIST = list(deliveries(ALIASES));
const ONE = `query($id: ID!, $after: String) { webhook(id: $id) { id ${deliveries(ALIASES)} } }`;
// The counts of one filter asked under two aliases are read together only when both pages come
// back in the same turn of the event loop, so each filter's count is asked once here: the
// statements are then the same on every run.
const COUNTED = list(deliveries(['newest', 'failed']));

const WEBHOOKS = 12;
const failing: Responder = (_req, res) => {
  res.writeHead(500, { 'content-type': 'text/plain' });
  res.end('no');
};

/**
 * Webhook `i` of `WEBHOOKS` gets `i` events of its own type, so the pages are empty, short,
 * exactly full and longer than full; odd webhooks send to `failedUrl` and do not retry.
 */
async function seed(server: TestServer, urls: { ok: string; failed: string }, token?: string) {
  const inputs = Array.from({ length: WEBHOOKS }, (_, i) =>
    makeWebhookInput({
      eventFilters: [{ eventTypes: [`nested.${i}`] }],
      config: { endpoint: i % 2 ? urls.failed : urls.ok },
      retryPolicy: { scheduleSeconds: [] },
    }),
  );
  const created = await server.gql(
    `mutation($inputs: [CreateWebhookInput!]!) { createWebhooks(inputs: $inputs) { id } }`,
    { inputs },
    token,
  );
  assert.equal(created.errors, undefined, JSON.stringify(created.errors));
  const published = await server.gql(
    `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { deliveries { id } } }`,
    { inputs: inputs.flatMap((_, i) => Array.from({ length: i }, () => ({ eventType: `nested.${i}` }))) },
    token,
  );
  assert.equal(published.errors, undefined, JSON.stringify(published.errors));
  return {
    webhookIds: created.data.createWebhooks.map((w: { id: string }) => w.id) as string[],
    deliveryIds: published.data.publishEvents.flatMap((e: { deliveries: { id: string }[] }) =>
      e.deliveries.map((d) => d.id),
    ) as string[],
  };
}

const settled = (server: TestServer, token?: string) =>
  eventually(
    async () => {
      const res = await server.gql(
        `{ deliveries(status: [PENDING, IN_FLIGHT, AWAITING_RETRY]) { totalCount } }`,
        {},
        token,
      );
      return res.data?.deliveries.totalCount === 0 ? true : undefined;
    },
    20_000,
    'every delivery to finish',
  );

for (const backend of backends()) {
  describe(`Deliveries of each webhook of a list (${backend.name})`, () => {
    let server: TestServer;
    const receivers: Receiver[] = [];
    let urls: { ok: string; failed: string };
    let cursor: string;

    before(async () => {
      server = await startServer(backend);
      const [ok, failed] = [await startReceiver(), await startReceiver(failing)];
      receivers.push(ok, failed);
      urls = { ok: `${ok.url}/nested`, failed: `${failed.url}/nested` };
      await seed(server, urls);
      await settled(server);
      // A cursor from the middle of all the deliveries: older than it, each webhook has some or none.
      const all = await server.gql(`{ deliveries(first: 30) { edges { cursor } } }`);
      cursor = all.data.deliveries.edges[29].cursor;
    });
    after(async () => {
      await server?.stop();
      await Promise.all(receivers.map((r) => r.close()));
    });

    it('gives each webhook of a list the same pages, cursors, pageInfo and totalCount as alone', async () => {
      const res = await server.gql(LIST, { first: WEBHOOKS, after: cursor });
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const nodes = res.data.webhooks.edges.map((e: { node: unknown }) => e.node);
      assert.equal(nodes.length, WEBHOOKS);
      for (const node of nodes) {
        const alone = await server.gql(ONE, { id: node.id, after: cursor });
        assert.equal(alone.errors, undefined, JSON.stringify(alone.errors));
        assert.deepEqual(node, alone.data.webhook);
      }
      // The seed covers what a page can be: empty, short, full with more behind, and for
      // `older` some webhooks with deliveries past the cursor and some without.
      const totals = nodes.map((n: any) => n.newest.totalCount).sort((a: number, b: number) => a - b);
      assert.deepEqual(
        totals,
        Array.from({ length: WEBHOOKS }, (_, i) => i),
      );
      for (const alias of ALIASES) {
        const sizes = new Set(nodes.map((n: any) => n[alias].edges.length));
        assert.ok(sizes.has(0) && sizes.has(2), `${alias} has empty and full pages`);
      }
      assert.ok(nodes.some((n: any) => n.newest.pageInfo.hasNextPage));
      assert.ok(nodes.some((n: any) => n.oldest.pageInfo.hasPreviousPage));
    });

    it("never shows another tenant's deliveries", async () => {
      const token = await server.gql(
        `mutation { createApiToken(name: "nested-t2", role: ADMIN, tenantId: "t2") }`,
      );
      assert.equal(token.errors, undefined, JSON.stringify(token.errors));
      const t2 = token.data.createApiToken as string;
      const theirs = await seed(server, urls, t2);
      await settled(server, t2);
      const asDefault = await server.gql(LIST, { first: 100, after: cursor });
      const asT2 = await server.gql(LIST, { first: 100, after: cursor }, t2);
      for (const res of [asDefault, asT2]) assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const shown = (res: typeof asDefault) => {
        const nodes = res.data.webhooks.edges.map((e: any) => e.node);
        return {
          webhooks: nodes.map((n: any) => n.id).sort(),
          deliveries: [
            ...new Set<string>(
              nodes.flatMap((n: any) => ALIASES.flatMap((a) => n[a].edges.map((e: any) => e.node.id))),
            ),
          ],
        };
      };
      const mine = shown(asDefault);
      const foreign = shown(asT2);
      assert.deepEqual(foreign.webhooks, [...theirs.webhookIds].sort());
      assert.equal(mine.webhooks.length, WEBHOOKS);
      assert.ok(foreign.deliveries.length > 0);
      for (const id of foreign.deliveries) assert.ok(theirs.deliveryIds.includes(id), `t2 sees ${id}`);
      for (const id of mine.deliveries)
        assert.ok(!theirs.deliveryIds.includes(id), `default sees t2's ${id}`);
    });

    it(
      'reads the deliveries of 12 webhooks in as many statements as those of 3',
      {
        skip:
          backend.name === 'pglite'
            ? 'counts the statements sent to a PostgreSQL server; PGlite runs inside the process'
            : false,
      },
      async () => {
        const counter = await startStatementCounter(postgresUrl as string);
        // The API alone: no dispatcher polling the queue between the requests counted.
        const api = await startServer(backend, {}, { role: 'api', connectVia: counter.via });
        try {
          await seed(api, urls);
          const statements = async (first: number) => {
            const before = counter.count();
            const res = await api.gql(COUNTED, { first, after: cursor });
            assert.equal(res.errors, undefined, JSON.stringify(res.errors));
            assert.equal(res.data.webhooks.edges.length, first);
            return counter.count() - before;
          };
          await statements(WEBHOOKS);
          const few = await statements(3);
          const many = await statements(WEBHOOKS);
          assert.equal(many, few, `${few} statements for 3 webhooks, ${many} for ${WEBHOOKS}`);
        } finally {
          await api.stop();
          await counter.close();
        }
      },
    );
  });
}
