import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterEnv, clusterFixture } from '../helpers/cluster.js';
import { backends } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { eventually } from '../helpers/receiver.js';
import { gqlRequest } from '../helpers/server.js';

const postgres = backends().find((b) => b.name === 'postgres');

// Each process keeps the webhooks its publishes match in memory for up to 10 s; a change made
// through another process must reach it well before that, by NOTIFY.
const WITHIN_MS = 5000;

async function ok<T>(url: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await gqlRequest<T>(url, query, variables);
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
  return res.data as T;
}

/** The number of deliveries a publish of `eventType` through `url` made. */
const matched = async (url: string, eventType: string) =>
  (
    await ok<{ publishEvent: { deliveries: unknown[] } }>(
      url,
      `mutation($input: PublishEventInput!) { publishEvent(input: $input) { id deliveries { id } } }`,
      { input: { eventType } },
    )
  ).publishEvent.deliveries.length;

describe(
  'webhook changes reach every process (postgres, two processes)',
  { skip: !postgres && 'needs TEST_DATABASE_URL: two Hookline processes share one PostgreSQL' },
  () => {
    const cluster = clusterFixture(postgres);

    it('a webhook created, re-filtered and disabled through one process is matched accordingly by the other', async () => {
      const env = clusterEnv(cluster.databaseUrl);
      const [a, b] = [await cluster.start('all', env), await cluster.start('all', env)];
      // b reads (and keeps) what `cache.probe` matches: nothing yet.
      assert.equal(await matched(b.url, 'cache.probe'), 0);

      const { createWebhook } = await ok<{ createWebhook: { id: string } }>(
        a.url,
        `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`,
        {
          input: makeWebhookInput({
            config: { endpoint: `${cluster.receiver.url}/changes` },
            eventFilters: [{ eventTypes: ['cache.probe'] }],
          }),
        },
      );
      // Through the process that made the change, at once.
      assert.equal(await matched(a.url, 'cache.probe'), 1);
      await eventually(
        async () => ((await matched(b.url, 'cache.probe')) === 1 ? true : undefined),
        WITHIN_MS,
        'the other process matching the new webhook',
      );

      const update = (input: Record<string, unknown>) =>
        ok(
          a.url,
          `mutation($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) { id } }`,
          { id: createWebhook.id, input },
        );
      await update({ eventFilters: [{ eventTypes: ['cache.other'] }] });
      await eventually(
        async () =>
          (await matched(b.url, 'cache.probe')) === 0 && (await matched(b.url, 'cache.other')) === 1
            ? true
            : undefined,
        WITHIN_MS,
        'the other process matching the new filter',
      );

      await update({ enabled: false });
      await eventually(
        async () => ((await matched(b.url, 'cache.other')) === 0 ? true : undefined),
        WITHIN_MS,
        'the other process no longer matching the disabled webhook',
      );
    });
  },
);
