import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getIntrospectionQuery } from 'graphql';
import { createWebhook } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { collect, wsClient } from '../helpers/live.js';
import { startServer, type TestServer } from '../helpers/server.js';

const times = (n: number, piece: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => piece(i)).join(' ');

/**
 * Documents shaped to make graphql-js's validation quadratic (it compares every pair of fields
 * that share a response name, and every pair of fragments spread into one selection set).
 * Each fits the token limit; a fresh comment keeps any parse or validation cache from helping.
 */
const expensive: Record<string, (salt: string) => string> = {
  'one field repeated': (salt) => `{ me { ${times(4990, () => 'role')} } } # ${salt}`,
  'aliases of one field': (salt) => `{ me { ${times(1600, () => 'r: role')} } } # ${salt}`,
  'one fragment spread repeated': (salt) =>
    `{ me { ${times(2400, () => '...F')} } } fragment F on Me { role } # ${salt}`,
  'many fragments with one field': (salt) =>
    `{ me { ${times(450, (i) => `...F${i}`)} } } ${times(450, (i) => `fragment F${i} on Me { role }`)} # ${salt}`,
  'nested repeats': (salt) =>
    `{ webhooks { ${times(20, () => `edges { ${times(20, () => 'node { id }')} }`)} } } # ${salt}`,
  'a chain of fragments': (salt) =>
    `{ me { ...F0 } } ${times(200, (i) => `fragment F${i} on Me { role ...F${i + 1} }`)} fragment F200 on Me { role } # ${salt}`,
};

const DEEP = `{ webhooks { edges { node { deliveries { edges { node { webhook { deliveries { edges { node { webhook { deliveries { edges { node { id } } } } } } } } } } } } } } }`;
const NESTED_PAGES = `query($a: Int, $b: Int) {
  webhooks(first: $a) { edges { node { deliveries(first: $b) { edges { node { id attempts { id status requestHeaders responseBody } } } } } } }
}`;

for (const backend of backends()) {
  describe(`GraphQL documents are bounded before they cost anything (${backend.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer(backend);
    });
    after(() => server.stop());

    for (const [shape, build] of Object.entries(expensive)) {
      it(`refuses ${shape} as a validation error with its own code`, async () => {
        const res = await server.gql(build(`${shape} ${Math.random()}`));
        assert.equal(res.status, 400, res.text.slice(0, 300));
        assert.equal(res.data, undefined);
        const [error] = res.errors ?? [];
        assert.match(String(error?.extensions?.code), /^(SELECTION|ALIAS)_LIMIT_EXCEEDED$/);
        assert.equal(typeof error?.extensions?.limit, 'number');
        assert.doesNotMatch(error?.message ?? '', /^Syntax Error/);
      });
    }

    it('refuses a long selection set or too many definitions while parsing, before any AST is whole', async () => {
      const cases: [string, number][] = [
        [`{ me { ${times(101, () => 'role')} } }`, 100],
        [`{ me { role } } ${times(200, (i) => `fragment F${i} on Me { role }`)}`, 200],
      ];
      for (const [query, limit] of cases) {
        const res = await server.gql(query);
        assert.equal(res.status, 400, res.text.slice(0, 300));
        assert.equal(res.errors?.[0]?.extensions?.code, 'SELECTION_LIMIT_EXCEEDED');
        // The limit of the parser's own count: the shape check after parsing would name another.
        assert.equal(res.errors?.[0]?.extensions?.limit, limit, res.text.slice(0, 300));
      }
    });

    it('still answers documents that repeat a field a few times, as fragments do', async () => {
      const res = await server.gql(
        `{ me { role ...A ...B } } fragment A on Me { role tenantId } fragment B on Me { role principal }`,
      );
      assert.equal(res.errors, undefined, res.text);
      assert.equal(res.data.me.role, 'ADMIN');
      // GraphiQL's schema query nests deeper than data queries may; introspection has its own bound.
      const introspection = await server.gql(
        getIntrospectionQuery({ descriptions: true, specifiedByUrl: true }),
      );
      assert.equal(introspection.errors, undefined, introspection.text.slice(0, 300));
      assert.ok(introspection.data.__schema.types.length > 10);
    });

    it('refuses too deep, too many aliases and too many tokens, each with its code, as HTTP 400', async () => {
      const cases: [string, string][] = [
        [DEEP, 'DEPTH_LIMIT_EXCEEDED'],
        [`{ ${times(30, (i) => `a${i}: me { role }`)} }`, 'ALIAS_LIMIT_EXCEEDED'],
        [`query($v: [String] = [${times(6000, () => '"x"')}]) { me { role } }`, 'TOKEN_LIMIT_EXCEEDED'],
      ];
      for (const [query, code] of cases) {
        const res = await server.gql(query);
        assert.equal(res.status, 400, `${code}: ${res.text.slice(0, 300)}`);
        assert.equal(res.errors?.[0]?.extensions?.code, code, res.text.slice(0, 300));
        assert.doesNotMatch(res.errors?.[0]?.message ?? '', /^Syntax Error/);
      }
    });

    it('counts page sizes given in variables in the cost, as it counts them written in the query', async () => {
      await createWebhook(server, { name: 'cost-probe' });
      const literal = await server.gql(
        NESTED_PAGES.replace('($a: Int, $b: Int)', '').replace('$a', '100').replace('$b', '100'),
      );
      const inVariables = await server.gql(NESTED_PAGES, { a: 100, b: 100 });
      for (const res of [literal, inVariables]) {
        assert.equal(res.status, 400, res.text.slice(0, 300));
        assert.equal(res.data, undefined);
        assert.equal(res.errors?.[0]?.extensions?.code, 'COST_LIMIT_EXCEEDED', res.text.slice(0, 300));
        assert.ok((res.errors?.[0]?.extensions?.found as number) > 20_000);
      }
      const small = await server.gql(NESTED_PAGES, { a: 5, b: 5 });
      assert.equal(small.errors, undefined, small.text);
      assert.ok(small.data.webhooks.edges.some((e: any) => e.node.deliveries.edges !== undefined));
    });

    it('applies the same limits to graphql-ws subscriptions', async () => {
      const client = wsClient(server.url);
      try {
        const repeated = collect(client, `subscription { deliveryLogs { ${times(200, () => 'status')} } }`);
        // Accepted, it would stay open: bounded so that the test fails instead of hanging.
        await Promise.race([repeated.done, new Promise((resolve) => setTimeout(resolve, 5000))]);
        // graphql-ws hands a refused subscription's errors to the sink as one array.
        const errors = repeated.errors.flat() as { extensions?: Record<string, unknown> }[];
        assert.equal(errors[0]?.extensions?.code, 'SELECTION_LIMIT_EXCEEDED');
      } finally {
        await client.dispose();
      }
    });
  });
}
