// Scenario 2, latency: events published one by one at a steady rate (200 a second for 20 s by
// default) to one GENERIC signed webhook; publish-to-receipt percentiles, measured by the
// receiver from the `sentAt` each event carries (one machine, one clock).
import { freshDatabase, gql, percentile, type ReceiverProcess, round, SECRET, startHookline } from './lib.js';

export interface Latency {
  events: number;
  /** The publish rate reached (below the asked one when the server could not take it). */
  achievedPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export async function hooklineLatency(
  adminUrl: string,
  receiver: ReceiverProcess,
  perSecond: number,
  seconds: number,
  env: Record<string, string> = {},
): Promise<Latency> {
  const database = await freshDatabase(adminUrl);
  const hookline = await startHookline(database.url, env);
  try {
    await gql(hookline.url, `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`, {
      input: {
        name: 'bench-latency',
        webhookType: 'GENERIC',
        eventFilters: [{ eventTypes: ['bench.latency'] }],
        config: { endpoint: `${receiver.url}/latency`, secretKey: SECRET },
      },
    });
    await receiver.reset();
    const total = perSecond * seconds;
    const started = Date.now();
    const publishing = new Set<Promise<unknown>>();
    for (let i = 0; i < total; i++) {
      // On schedule, whether or not earlier publishes have answered (an open-loop load).
      const due = started + (i * 1000) / perSecond;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      // Open loop, but bounded: a server that cannot take the rate makes the publisher wait
      // rather than pile up connections until they time out (the achieved rate shows it).
      if (publishing.size >= 200) await Promise.race(publishing);
      const publish = gql(
        hookline.url,
        `mutation($input: PublishEventInput!) { publishEvent(input: $input) { id } }`,
        {
          input: { eventType: 'bench.latency', data: { sentAt: Date.now(), n: i } },
        },
      ).finally(() => publishing.delete(publish));
      publishing.add(publish);
    }
    await Promise.all(publishing);
    const achieved = total / ((Date.now() - started) / 1000);
    await receiver.waitFor(total, 120_000);
    const sorted = (await receiver.stats()).latencies.sort((a, b) => a - b);
    return {
      events: total,
      achievedPerSecond: round(achieved, 0),
      p50: round(percentile(sorted, 50)),
      p90: round(percentile(sorted, 90)),
      p99: round(percentile(sorted, 99)),
      max: round(sorted[sorted.length - 1] ?? Number.NaN),
    };
  } finally {
    await hookline.stop();
    await database.drop();
  }
}
