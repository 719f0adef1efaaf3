import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { ADMIN_TOKEN, startServer, type TestServer } from '../helpers/server.js';

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`;
const COUNT = `{ webhooks(first: 0, filter: { includeDeleted: true }) { totalCount } }`;

for (const backend of backends()) {
  describe(`authentication (${backend.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer(backend);
    });
    after(async () => {
      await server?.stop();
    });

    for (const [label, token] of [
      ['no Authorization header', null],
      ['an unknown token', 'hk_not-a-real-token'],
      ['the admin token off by one character', `${ADMIN_TOKEN}x`],
    ] as const) {
      it(`refuses a request with ${label}: UNAUTHENTICATED, nothing read or written`, async () => {
        const before = (await server.gql(COUNT)).data.webhooks.totalCount;
        const write = await server.gql(CREATE, { input: makeWebhookInput() }, token);
        assert.equal(write.status, 401);
        assert.equal(write.data, undefined);
        assert.equal(write.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
        const read = await server.gql(COUNT, {}, token);
        assert.equal(read.status, 401);
        assert.equal(read.data, undefined);
        const introspection = await server.gql('{ __schema { types { name } } }', {}, token);
        assert.equal(introspection.status, 401);
        const invalid = await server.gql('{ noSuchField }', {}, token);
        assert.equal(
          invalid.errors?.[0]?.extensions?.code,
          'UNAUTHENTICATED',
          'auth comes before validation',
        );
        assert.equal((await server.gql(COUNT)).data.webhooks.totalCount, before);
      });
    }

    it('refuses a token sent as Basic credentials', async () => {
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Basic ${ADMIN_TOKEN}` },
        body: JSON.stringify({ query: COUNT }),
      });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer');
    });

    it('serves health and readiness without a token', async () => {
      const health = await fetch(`${server.url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });
      const ready = await fetch(`${server.url}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { status: 'ready' });
    });

    it('serves GraphiQL to a browser without a token, and nothing else', async () => {
      const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      // Served whole from here: no script or style from another host (a CDN).
      const html = await page.text();
      assert.doesNotMatch(html, /<(script|link)[^>]+(src|href)="(https?:)?\/\//);
      assert.match(html, /Bearer <your token>/);
      assert.match(html, /query FirstLook/);
      const get = await fetch(`${server.url}/graphql?query=${encodeURIComponent(COUNT)}`, {
        headers: { accept: 'application/json' },
      });
      assert.equal(get.status, 401);
    });
  });
}
