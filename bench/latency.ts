// Scenario 2, latency: events published one by one at a steady rate (200 a second for 20 s by
// default) to one GENERIC signed webhook, after one second at that rate that is not counted;
// publish-to-receipt percentiles, measured by the receiver from the `sentAt` each event
// carries (one machine, one clock).
import {
  freshDatabase,
  gql,
  publishPaced,
  type ReceiverProcess,
  round,
  SECRET,
  startHookline,
  summary,
} from './lib.js';

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
    // A second at the same rate first, not counted: the server's pool opens its connections
    // and V8 compiles the hot path (the first second's p50 was 10-20x the rest's).
    await publishPaced(hookline.url, perSecond, perSecond, (i) => ({
      eventType: 'bench.latency',
      data: { sentAt: Date.now(), n: -1 - i },
    }));
    await receiver.waitFor(perSecond, 60_000);
    await receiver.reset();
    const total = perSecond * seconds;
    const achieved = await publishPaced(hookline.url, total, perSecond, (i) => ({
      eventType: 'bench.latency',
      data: { sentAt: Date.now(), n: i },
    }));
    await receiver.waitFor(total, 120_000);
    return {
      events: total,
      achievedPerSecond: round(achieved, 0),
      ...summary((await receiver.stats()).latencies),
    };
  } finally {
    await hookline.stop();
    await database.drop();
  }
}
