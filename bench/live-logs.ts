// Scenario 5, live logs: front-end apps each watching one webhook. 100 GENERIC webhooks, each
// with 5 graphql-ws subscribers on `deliveryLogs(webhookId:)` (500 in all, in a process of
// their own); events published one by one at 200 a second, spread evenly over the webhooks,
// after one second at that rate that is not counted, so about 1,000 messages a second reach
// the subscribers. The latency of a message is its arrival minus the end of its attempt's
// request (`startedAt` + `durationMs`): that moment comes before the attempt is committed, so
// the figure includes the recording too.
import {
  createWebhooksInBatches,
  forkBenchProcess,
  freshDatabase,
  metricSum,
  publishPaced,
  type ReceiverProcess,
  round,
  startHookline,
  summary,
  TOKEN,
} from './lib.js';

export interface LiveLogs {
  webhooks: number;
  subscribers: number;
  events: number;
  achievedPerSecond: number;
  /** Messages the subscribers got, and what they should have got (each attempt once per subscriber of its webhook). */
  received: number;
  expected: number;
  /** Subscribers that got fewer messages than their webhook had attempts. */
  subscribersShort: number;
  errors: number;
  firstErrors: string[];
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** The uncounted first second's p99: the server and the subscriptions still cold. */
  firstSecondP99: number;
}

const QUERY = `subscription($webhookId: ID) { deliveryLogs(webhookId: $webhookId) { id status startedAt durationMs } }`;

export async function hooklineLiveLogs(
  adminUrl: string,
  receiver: ReceiverProcess,
  options: { webhooks: number; perWebhook: number; perSecond: number; seconds: number },
): Promise<LiveLogs> {
  const { webhooks, perWebhook, perSecond, seconds } = options;
  // Attempts per webhook of `events` spread evenly: one per event (the receiver answers 200).
  const countOf = (events: number, w: number) =>
    Math.floor(events / webhooks) + (w < events % webhooks ? 1 : 0);
  const database = await freshDatabase(adminUrl);
  // 500 subscriptions of one token: past the default cap of 100 a token.
  const hookline = await startHookline(database.url, { HOOKLINE_MAX_SUBSCRIPTIONS_PER_TOKEN: '1000' });
  const subscribers = await forkBenchProcess<{ ready: true }>('./subscribers-process.ts');
  try {
    const ids = await createWebhooksInBatches(hookline.url, webhooks, (i) => ({
      name: `live-${i}`,
      webhookType: 'GENERIC',
      eventFilters: [{ eventTypes: ['bench.live'], entities: [`t${i}`] }],
      config: { endpoint: `${receiver.url}/live/${i}` },
    }));
    // Subscriber s watches webhook s % webhooks.
    const watched = Array.from({ length: webhooks * perWebhook }, (_, s) => s % webhooks);
    await subscribers.ask(
      {
        op: 'subscribe',
        url: hookline.url,
        token: TOKEN,
        query: QUERY,
        webhookIds: watched.map((w) => ids[w]),
      },
      60_000,
    );
    // Acknowledged connections are not yet subscriptions: wait until the server counts them all.
    const deadline = Date.now() + 30_000;
    while ((await metricSum(hookline.url, 'hookline_open_subscriptions')) < watched.length) {
      if (Date.now() > deadline) throw new Error(`live-logs: ${watched.length} subscriptions never opened`);
      await new Promise((r) => setTimeout(r, 100));
    }

    // A second at the same rate first, not counted, as in the latency scenario: the server's
    // pool opens its connections, V8 compiles the hot path, and each webhook's visibility to
    // the subscribers' token is read once (the first second's p99 was 200-300 ms).
    await receiver.reset();
    await publishPaced(hookline.url, perSecond, perSecond, (i) => ({
      eventType: 'bench.live',
      entityType: `t${i % webhooks}`,
      entityId: `warm-${i}`,
      data: { n: i },
    }));
    await receiver.waitFor(perSecond, 60_000);
    const warmed = watched.reduce((sum, w) => sum + countOf(perSecond, w), 0);
    await subscribers.ask({ op: 'wait', n: warmed, quietMs: 5000 }, 60_000);
    const warmup = await subscribers.ask<{ latencies: number[] }>({ op: 'stats' });
    // Not counted for latency, but a message lost is still an error.
    const lostFirst = warmed - warmup.latencies.length;
    await subscribers.ask({ op: 'reset' });

    await receiver.reset();
    const total = perSecond * seconds;
    const achieved = await publishPaced(hookline.url, total, perSecond, (i) => ({
      eventType: 'bench.live',
      entityType: `t${i % webhooks}`,
      entityId: `e-${i}`,
      data: { n: i },
    }));
    await receiver.waitFor(total, 300_000);
    const attempts = (w: number) => countOf(total, w);
    const expected = watched.reduce((sum, w) => sum + attempts(w), 0);
    await subscribers.ask({ op: 'wait', n: expected, quietMs: 5000 }, 300_000);
    const stats = await subscribers.ask<{
      perSubscriber: number[];
      latencies: number[];
      errors: string[];
      errorCount: number;
    }>({ op: 'stats' });
    return {
      webhooks,
      subscribers: watched.length,
      events: total,
      achievedPerSecond: round(achieved, 0),
      received: stats.latencies.length,
      expected,
      subscribersShort: watched.filter((w, s) => (stats.perSubscriber[s] ?? 0) < attempts(w)).length,
      errors: stats.errorCount + (lostFirst > 0 ? 1 : 0),
      firstErrors: [
        ...(lostFirst > 0 ? [`${lostFirst} messages of the uncounted first second never came`] : []),
        ...stats.errors,
      ].slice(0, 3),
      ...summary(stats.latencies),
      firstSecondP99: summary(warmup.latencies).p99,
    };
  } finally {
    await subscribers.stop();
    await hookline.stop();
    await database.drop();
  }
}
