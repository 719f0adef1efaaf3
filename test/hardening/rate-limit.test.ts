import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/db.js';
import { collect, openSubscriptions, wsClient } from '../helpers/live.js';
import { eventually } from '../helpers/receiver.js';
import { ADMIN_TOKEN, startServer, type TestServer } from '../helpers/server.js';

const BURST = 20;

const query = (url: string, token: string) =>
  fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ me { principal } }' }),
    signal: AbortSignal.timeout(20_000),
  });

const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** A 429's Retry-After, checked to be whole seconds, at least 1. */
function retryAfter(res: Response): number {
  const value = res.headers.get('retry-after') ?? '';
  assert.match(value, /^[1-9]\d*$/);
  return Number(value);
}

for (const backend of backends()) {
  describe(`the API rate limit per token (${backend.name})`, () => {
    let limited: TestServer;
    let open: TestServer;
    const tokens: Record<string, string> = {};
    before(async () => {
      limited = await startServer(backend, { HOOKLINE_API_RATE_LIMIT: '2' });
      open = await startServer(backend);
      // The ADMIN token is limited too: it waits as any client would, a bounded number of times.
      for (const name of ['alice', 'bob', 'carol']) {
        for (let attempt = 1; !tokens[name]; attempt++) {
          const res = await fetch(`${limited.url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
            body: JSON.stringify({ query: `mutation { createApiToken(name: "${name}", role: USER) }` }),
          });
          if (res.status === 429 && attempt < 5) await sleep(retryAfter(res));
          else tokens[name] = ((await res.json()) as any).data.createApiToken;
        }
      }
    });
    after(async () => {
      await limited?.stop();
      await open?.stop();
    });

    it('answers a burst past the rate with 429 and Retry-After, and leaves other tokens alone', async () => {
      const [burst, other] = await Promise.all([
        Promise.all(Array.from({ length: BURST }, () => query(limited.url, tokens.alice!))),
        query(limited.url, tokens.bob!),
      ]);
      const refused = burst.filter((r) => r.status === 429);
      assert.ok(refused.length > 0, 'some requests of the burst are refused');
      assert.ok(refused.length < BURST, 'the first ones are served');
      for (const res of burst.filter((r) => r.status !== 429)) {
        assert.equal(res.status, 200);
        const body = (await res.json()) as any;
        assert.equal(body.data?.me?.principal, 'alice', JSON.stringify(body));
      }
      let wait = 0;
      for (const res of refused) {
        wait = Math.max(wait, retryAfter(res));
        assert.match(res.headers.get('content-type') ?? '', /application\/json/);
        const body = (await res.json()) as any;
        assert.equal(body.errors[0].extensions.code, 'RATE_LIMITED');
        assert.equal(body.errors[0].extensions.retryAfterSeconds, retryAfter(res));
        assert.match(body.errors[0].message, /2 requests a second.*HOOKLINE_API_RATE_LIMIT/);
        assert.equal(body.data, undefined);
      }
      assert.equal(other.status, 200, 'another token is served at the same moment');
      const otherBody = (await other.json()) as any;
      assert.equal(otherBody.data?.me?.principal, 'bob', JSON.stringify(otherBody));

      // Retry-After tells the truth: once it has passed, the token is served again.
      await sleep(wait);
      assert.equal((await query(limited.url, tokens.alice!)).status, 200);
    });

    it('counts new graphql-ws subscriptions, refusing the excess one by one on a socket that stays open', async () => {
      const client = wsClient(limited.url, tokens.carol!);
      const subs = Array.from({ length: BURST }, () =>
        collect(client, 'subscription { webhookStatusChanged { id } }'),
      );
      // Each subscription is either open or refused.
      const refusals = () =>
        subs.flatMap(
          (s) => s.errors.flat() as { extensions?: { code?: string; retryAfterSeconds?: number } }[],
        );
      await eventually(
        async () => (refusals().length + (await openSubscriptions(limited.url)) === BURST ? true : undefined),
        15_000,
        'every subscription answered',
      );
      const refused = refusals();
      assert.ok(refused.length > 0, 'some subscriptions of the burst are refused');
      assert.ok(refused.length < BURST, 'the first ones are open');
      for (const error of refused) {
        assert.equal(error.extensions?.code, 'RATE_LIMITED');
        assert.ok((error.extensions?.retryAfterSeconds ?? 0) >= 1);
      }
      const opened = BURST - refused.length;
      await sleep(Math.max(...refused.map((e) => e.extensions?.retryAfterSeconds ?? 1)));
      const later = collect(client, 'subscription { webhookStatusChanged { id } }');
      await eventually(
        async () => ((await openSubscriptions(limited.url)) === opened + 1 ? true : undefined),
        10_000,
        'the later subscription open',
      );
      assert.deepEqual(later.errors, []);
      await client.dispose();
    });

    it('never answers 429 when no limit is set', async () => {
      const burst = await Promise.all(Array.from({ length: 50 }, () => query(open.url, ADMIN_TOKEN)));
      assert.deepEqual(
        burst.map((r) => r.status),
        Array.from({ length: 50 }, () => 200),
      );
    });
  });
}
