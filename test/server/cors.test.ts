import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/db.js';
import { ADMIN_TOKEN, startServer, type TestServer } from '../helpers/server.js';

const CONSOLE = 'http://console.example';
const FOREIGN = 'https://evil.example';

/** A POST of `{ me { role } }` as a page of `origin` sends it. */
const post = (url: string, origin: string, token: string | null = ADMIN_TOKEN, accept = 'application/json') =>
  fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      origin,
      accept,
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query: '{ me { role } }' }),
    signal: AbortSignal.timeout(10_000),
  });

/** The preflight a browser sends before that POST. */
const preflight = (url: string, origin: string, path = '/graphql') =>
  fetch(`${url}${path}`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, x-request-id',
    },
    signal: AbortSignal.timeout(10_000),
  });

/** A POST whose head alone is refused (411, 413): fetch always sends a right Content-Length. */
const rawPost = (url: string, origin: string, headers: Record<string, string>) =>
  new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = request(`${url}/graphql`, { method: 'POST', headers: { origin, ...headers } }, (res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
      // The body was never sent: nothing more will come either way.
      req.destroy();
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.flushHeaders();
  });

const corsHeaders = (headers: Headers) =>
  [...headers.keys()].filter((name) => name.startsWith('access-control-')).sort();

for (const backend of backends()) {
  describe(`CORS (${backend.name})`, () => {
    let closed: TestServer;
    let listed: TestServer;
    let anyOrigin: TestServer;
    before(async () => {
      closed = await startServer(backend);
      listed = await startServer(backend, { HOOKLINE_CORS_ORIGINS: `${CONSOLE},http://localhost:5173` });
      anyOrigin = await startServer(backend, { HOOKLINE_CORS_ORIGINS: '*' });
    });
    after(async () => {
      await closed?.stop();
      await listed?.stop();
      await anyOrigin?.stop();
    });

    it('lets no origin read anything by default', async () => {
      for (const origin of [CONSOLE, FOREIGN]) {
        const res = await post(closed.url, origin);
        // The request itself is served (CORS cannot stop it); its answer is not shared.
        assert.equal(res.status, 200);
        assert.deepEqual(corsHeaders(res.headers), []);
        const unauthenticated = await post(closed.url, origin, null);
        assert.equal(unauthenticated.status, 401);
        assert.deepEqual(corsHeaders(unauthenticated.headers), []);
        const pre = await preflight(closed.url, origin);
        assert.equal(pre.status, 204);
        assert.deepEqual(corsHeaders(pre.headers), []);
      }
    });

    it('lets a listed origin read answers and x-request-id, without credentials', async () => {
      const res = await post(listed.url, CONSOLE);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), CONSOLE);
      assert.equal(res.headers.get('access-control-expose-headers'), 'x-request-id, retry-after');
      assert.equal(res.headers.get('access-control-allow-credentials'), null);
      assert.match(res.headers.get('vary') ?? '', /origin/i);
      assert.ok(res.headers.get('x-request-id'));
      assert.equal(((await res.json()) as any).data.me.role, 'ADMIN');

      const pre = await preflight(listed.url, CONSOLE);
      assert.equal(pre.status, 204);
      assert.equal(pre.headers.get('access-control-allow-origin'), CONSOLE);
      const methods = (pre.headers.get('access-control-allow-methods') ?? '').split(/,\s*/);
      for (const m of ['GET', 'POST', 'OPTIONS']) assert.ok(methods.includes(m), m);
      const allowed = (pre.headers.get('access-control-allow-headers') ?? '').split(/,\s*/);
      for (const h of ['authorization', 'content-type', 'accept', 'x-request-id', 'x-hookline-via'])
        assert.ok(allowed.includes(h), h);
      assert.equal(pre.headers.get('access-control-allow-credentials'), null);

      // A live stream over SSE is readable too.
      const stream = await post(listed.url, CONSOLE, ADMIN_TOKEN, 'text/event-stream');
      assert.equal(stream.headers.get('access-control-allow-origin'), CONSOLE);
      await stream.body?.cancel();
    });

    it('shares refusals made before GraphQL runs with a listed origin, so its page can read why', async () => {
      const unauthenticated = await post(listed.url, CONSOLE, null);
      assert.equal(unauthenticated.status, 401);
      assert.equal(unauthenticated.headers.get('access-control-allow-origin'), CONSOLE);
      assert.equal(((await unauthenticated.json()) as any).errors[0].extensions.code, 'UNAUTHENTICATED');

      const missing = await rawPost(listed.url, CONSOLE, { 'transfer-encoding': 'chunked' });
      assert.equal(missing.status, 411);
      assert.equal(missing.headers['access-control-allow-origin'], CONSOLE);
      const tooLarge = await rawPost(listed.url, CONSOLE, { 'content-length': String(64 * 1024 * 1024) });
      assert.equal(tooLarge.status, 413);
      assert.equal(tooLarge.headers['access-control-allow-origin'], CONSOLE);

      const notFound = await fetch(`${listed.url}/nowhere`, { headers: { origin: CONSOLE } });
      assert.equal(notFound.status, 404);
      assert.equal(notFound.headers.get('access-control-allow-origin'), CONSOLE);

      // The JSON view of a webhook is read the same way, after its own preflight.
      const pre = await preflight(listed.url, CONSOLE, '/webhooks/wh_x');
      assert.equal(pre.headers.get('access-control-allow-origin'), CONSOLE);
      assert.ok(pre.headers.get('access-control-allow-headers')?.includes('authorization'));
    });

    it('shares nothing with an origin that is not listed', async () => {
      for (const origin of [FOREIGN, 'http://console.example:8080', 'https://console.example', 'null']) {
        const res = await post(listed.url, origin);
        assert.equal(res.status, 200);
        assert.deepEqual(corsHeaders(res.headers), [], origin);
        const unauthenticated = await post(listed.url, origin, null);
        assert.deepEqual(corsHeaders(unauthenticated.headers), [], origin);
        const pre = await preflight(listed.url, origin);
        assert.deepEqual(corsHeaders(pre.headers), [], origin);
      }
    });

    it('with *, lets any page read answers, never with credentials', async () => {
      for (const origin of [CONSOLE, FOREIGN]) {
        const res = await post(anyOrigin.url, origin);
        assert.equal(res.headers.get('access-control-allow-origin'), '*');
        assert.equal(res.headers.get('access-control-expose-headers'), 'x-request-id, retry-after');
        assert.equal(res.headers.get('access-control-allow-credentials'), null);
        const pre = await preflight(anyOrigin.url, origin);
        assert.equal(pre.headers.get('access-control-allow-origin'), '*');
        assert.ok(pre.headers.get('access-control-allow-headers')?.includes('authorization'));
        assert.equal(pre.headers.get('access-control-allow-credentials'), null);
      }
    });
  });
}
