import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { runHookline } from '../helpers/process.js';
import { eventually, type Receiver, startReceiver } from '../helpers/receiver.js';
import { ADMIN_TOKEN, gqlRequest } from '../helpers/server.js';

const postgres = backends().find((b) => b.name === 'postgres');
const EVENTS = 300;
const PER_WEBHOOK = 4;

describe(
  'a dispatcher killed with SIGKILL mid-run (postgres)',
  { skip: !postgres && 'needs TEST_DATABASE_URL: a killed PGlite process may not have flushed its files' },
  () => {
    let database: { url: string; drop(): Promise<void> };
    let receiver: Receiver;
    let inFlight = 0;

    before(async () => {
      database = await (postgres as NonNullable<typeof postgres>).create();
      // Each request takes 20 ms, so the run is long enough to be killed in the middle.
      receiver = await startReceiver(async (_req, res) => {
        inFlight++;
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        res.end('ok');
      });
    });
    after(async () => {
      await receiver?.close();
      await database?.drop();
    });

    it('delivers every event after a restart, sending again only what was in flight at the kill', async () => {
      const env = {
        DATABASE_URL: database.url,
        HOOKLINE_ADMIN_TOKEN: ADMIN_TOKEN,
        HOOKLINE_ALLOW_PRIVATE_TARGETS: '127.0.0.1',
        PORT: '0',
        HOOKLINE_WEBHOOK_CONCURRENCY: String(PER_WEBHOOK),
        // Leases of a killed process expire this long after their timeout (1 s) instead of 15 s.
        HOOKLINE_LEASE_MARGIN_MS: '500',
      };
      const first = runHookline(['serve'], env);
      const url = await first.listening;
      const created = await gqlRequest<any>(
        url,
        `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`,
        {
          input: makeWebhookInput({
            config: { endpoint: `${receiver.url}/crash`, timeoutMs: 1000 },
            eventFilters: [{ eventTypes: ['crash'] }],
          }),
        },
      );
      assert.equal(created.errors, undefined, JSON.stringify(created.errors));
      const published: string[] = [];
      for (let i = 0; i < EVENTS; i += 100) {
        const res = await gqlRequest<any>(
          url,
          `mutation($inputs: [PublishEventInput!]!) { publishEvents(inputs: $inputs) { id } }`,
          {
            inputs: Array.from({ length: 100 }, (_, j) => ({ eventType: 'crash', entityId: `e-${i + j}` })),
          },
        );
        assert.equal(res.errors, undefined, JSON.stringify(res.errors));
        published.push(...res.data.publishEvents.map((e: { id: string }) => e.id));
      }

      await receiver.waitForCount(EVENTS / 3, 60_000);
      const requestsInFlight = inFlight;
      first.child.kill('SIGKILL');
      await first.exited;
      const beforeRestart = receiver.received.length;
      assert.ok(beforeRestart < EVENTS, 'the kill came before the end of the run');

      const second = runHookline(['serve'], env);
      const url2 = await second.listening;
      const ids = () => new Set(receiver.received.map((r) => r.json?.eventId));
      await receiver.waitFor(() => published.every((id) => ids().has(id)), 60_000);

      const duplicates = receiver.received.length - ids().size;
      assert.ok(
        duplicates <= PER_WEBHOOK,
        `${duplicates} duplicates; at most the ${PER_WEBHOOK} requests a webhook may have in flight (${requestsInFlight} were at the kill)`,
      );
      // The last re-sent requests are answered before their attempts are recorded.
      await eventually(
        async () => {
          const done = await gqlRequest<any>(url2, `{ deliveries(status: [SUCCEEDED]) { totalCount } }`);
          return done.data.deliveries.totalCount === EVENTS ? true : undefined;
        },
        20_000,
        'every delivery SUCCEEDED',
      );
      const stuck = await gqlRequest<any>(
        url2,
        `{ deliveries(status: [PENDING, IN_FLIGHT, AWAITING_RETRY]) { totalCount } }`,
      );
      assert.equal(stuck.data.deliveries.totalCount, 0);
      assert.equal(await second.kill('SIGTERM'), 0);
    });
  },
);
