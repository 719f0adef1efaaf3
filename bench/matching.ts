// Matching scale: publishEvent throughput with 10, 1,000 and 10,000 webhooks registered, most
// of them listening to other event types. Prints one JSON line per size.
import { performance } from 'node:perf_hooks';
import { parseConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { serve } from '../src/main.js';
import { freshDatabase, gql, TOKEN } from './lib.js';

const MATCHING = 10;
const EVENTS = Number(process.env.BENCH_EVENTS ?? 300);
/** What the filters' conditions look at: every event meets them. */
const fields = (i: number) => ({ entityFqn: `bench.t-${i}`, data: { row: { n: i, region: 'eu' } } });

export async function benchMatching(databaseUrl: string, sizes = [10, 1000, 10_000]) {
  const results = [];
  for (const size of sizes) {
    const database = await freshDatabase(databaseUrl);
    const running = await serve(
      parseConfig({
        DATABASE_URL: database.url,
        PORT: '0',
        HOOKLINE_ADMIN_TOKEN: TOKEN,
        HOOKLINE_ALLOW_PRIVATE_TARGETS: '127.0.0.1',
      }),
      createLogger('silent'),
      'api',
    );
    const url = running.url as string;
    try {
      for (let i = 0; i < size; i += 100) {
        const inputs = Array.from({ length: Math.min(100, size - i) }, (_, j) => {
          const n = i + j;
          return {
            name: `bench-${size}-${n}`,
            webhookType: 'GENERIC',
            enabled: true,
            // Delivery is not measured here: the API process alone, no dispatcher, so rows wait.
            config: { endpoint: 'http://127.0.0.1:9/unused' },
            // Every filter carries conditions (which hold for the bench's events), so that the
            // figures include their cost; they must not widen the candidates the index finds.
            eventFilters: [
              {
                eventTypes: [n < MATCHING ? 'bench.match' : `bench.other.${n}`],
                entities: ['table'],
                where: [
                  { path: 'entityFqn', op: 'PREFIX', value: 'bench.' },
                  { path: 'data.row.n', op: 'GTE', value: 0 },
                  { path: 'data.row.region', op: 'IN', value: ['eu', 'us'] },
                ],
              },
            ],
          };
        });
        await gql(
          url,
          `mutation($inputs: [CreateWebhookInput!]!) { createWebhooks(inputs: $inputs) { id } }`,
          { inputs },
        );
      }
      const publish = `mutation($input: PublishEventInput!) { publishEvent(input: $input) { id } }`;
      for (let i = 0; i < 20; i++)
        await gql(url, publish, { input: { eventType: 'bench.match', entityType: 'table', ...fields(i) } });
      const started = performance.now();
      for (let i = 0; i < EVENTS; i++) {
        await gql(url, publish, {
          input: { eventType: 'bench.match', entityType: 'table', entityId: `t-${i}`, ...fields(i) },
        });
      }
      const seconds = (performance.now() - started) / 1000;
      const result = {
        scenario: 'matching',
        backend: databaseUrl.startsWith('memory') ? 'pglite' : 'postgres',
        webhooks: size,
        matchingPerEvent: MATCHING,
        events: EVENTS,
        eventsPerSecond: Math.round(EVENTS / seconds),
        msPerPublish: Number(((seconds * 1000) / EVENTS).toFixed(2)),
      };
      console.log(JSON.stringify(result));
      results.push(result);
    } finally {
      await running.stop();
      await database.drop();
    }
  }
  return results;
}
