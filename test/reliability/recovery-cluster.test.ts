import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { clusterEnv, clusterFixture } from '../helpers/cluster.js';
import { backends } from '../helpers/db.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { eventually, ok, type Receiver, type Responder, startReceiver } from '../helpers/receiver.js';
import { gqlRequest } from '../helpers/server.js';

const postgres = backends().find((b) => b.name === 'postgres');

async function gql<T = any>(url: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await gqlRequest<T>(url, query, variables);
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
  return res.data as T;
}

describe(
  'probing auto-disabled webhooks with several processes (postgres, two processes)',
  { skip: !postgres && 'needs TEST_DATABASE_URL: two Hookline processes share one PostgreSQL' },
  () => {
    const cluster = clusterFixture(postgres);
    const receivers: Receiver[] = [];
    after(async () => {
      for (const r of receivers) await r.close();
    });

    it('probes one request at a time however many processes dispatch, and recovers once', async () => {
      // Probes as often as their lease allows (a 1.5 s timeout and a 0.5 s margin), checked by each
      // process every 500 ms: the two race for every probe. Each answer takes 1.2 s, so a
      // probe taken while another is out would overlap it.
      const env = clusterEnv(cluster.databaseUrl, {
        HOOKLINE_DISABLE_AFTER_SECONDS: '2',
        HOOKLINE_PROBE_AFTER_SECONDS: '1',
        HOOKLINE_PROBE_MAX_SECONDS: '1',
      });
      const [a, b] = [await cluster.start('all', env), await cluster.start('all', env)];
      let inFlight = 0;
      let maxInFlight = 0;
      let counting = false;
      let healthy = false;
      const slow: Responder = async (_req, res) => {
        inFlight++;
        if (counting) maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 1200));
        inFlight--;
        res.writeHead(healthy ? 200 : 500).end();
      };
      const dead = await startReceiver(slow);
      const ops = await startReceiver(ok);
      receivers.push(dead, ops);
      await gql(a.url, `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`, {
        input: makeWebhookInput({
          config: { endpoint: `${ops.url}/ops` },
          eventFilters: [{ eventTypes: ['webhook.disabled', 'webhook.recovered'] }],
        }),
      });
      const { createWebhook } = await gql(
        a.url,
        `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`,
        {
          input: makeWebhookInput({
            config: { endpoint: `${dead.url}/dead`, timeoutMs: 1500 },
            eventFilters: [{ eventTypes: ['probe.cluster'] }],
            retryPolicy: { scheduleSeconds: Array.from({ length: 20 }, () => 1) },
          }),
        },
      );
      const id = createWebhook.id as string;
      // Several deliveries queued: two processes probing at once would each take one.
      for (let i = 0; i < 4; i++)
        await gql(b.url, `mutation { publishEvent(input: { eventType: "probe.cluster" }) { id } }`);
      const status = async () =>
        (await gql(b.url, `query($id: ID!) { webhook(id: $id) { status } }`, { id })).webhook.status;
      await eventually(async () => ((await status()) === 'DISABLED' ? true : undefined), 30_000, 'disabled');
      // Requests sent before the disable may still be answering; count from when they are done.
      await new Promise((r) => setTimeout(r, 2000));
      counting = true;
      const atCount = dead.received.length;
      await dead.waitFor((r) => r.length >= atCount + 4, 30_000);
      assert.equal(await status(), 'DISABLED');
      assert.equal(maxInFlight, 1, 'two probes of one webhook were in flight at once');

      healthy = true;
      await eventually(async () => ((await status()) === 'ACTIVE' ? true : undefined), 30_000, 'recovered');
      await ops.waitFor((r) => r.some((x) => x.json?.eventType === 'webhook.recovered'), 15_000);
      // Every queued delivery goes out once the webhook is on again.
      await eventually(
        async () => {
          const d = await gql(
            b.url,
            `query($id: ID!) { deliveries(webhookId: $id, first: 10) { edges { node { status } } } }`,
            { id },
          );
          const statuses = d.deliveries.edges.map((e: { node: { status: string } }) => e.node.status);
          return statuses.length === 4 && statuses.every((s: string) => s === 'SUCCEEDED') ? true : undefined;
        },
        30_000,
        'every delivery succeeded',
      );
      const recovered = ops.received.filter(
        (x) => x.json?.eventType === 'webhook.recovered' && x.json?.entity?.id === id,
      );
      assert.equal(recovered.length, 1, 'webhook.recovered is raised once');
    });
  },
);
