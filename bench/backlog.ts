// Scenario 6, backlog memory: one GENERIC signed webhook whose receiver is down while N events
// are published through publishEvents in batches of 1000; then the receiver comes up on the
// same port and the backlog drains. Peak RSS of the Hookline process over the whole run, its
// RSS when the backlog was complete, and the drain rate from "up" to the last receipt.
//
// While the receiver is down the dispatcher keeps trying: each attempt is refused and the
// delivery waits for a retry. The retry schedule is the shortest allowed (1 s steps, 20 of
// them), so a delivery that failed before "up" is due again within a second or two after.
import {
  freshDatabase,
  gql,
  metricSum,
  publishInBatches,
  type ReceiverProcess,
  round,
  SECRET,
  startHookline,
} from './lib.js';

export interface Backlog {
  events: number;
  publishSeconds: number;
  /** Deliveries by status when the receiver came up: how many had been tried, and failed, already. */
  atUp: Record<string, number>;
  /** Deliveries tried and refused before the receiver came up (waiting for a retry, or given up). */
  triedBeforeUp: number;
  /** Attempts recorded before the receiver came up (all refused). */
  attemptsBeforeUp: number;
  /** Deliveries received after "up"; fewer than `events` when the drain hit its time limit. */
  drained: number;
  complete: boolean;
  drainSeconds: number;
  drainPerSecond: number;
  /** From the first publish to the last receipt. */
  totalSeconds: number;
  peakRssMb: number;
  /** Once started and migrated, before any webhook or event: what the backlog adds to. */
  rssAtStartMb: number;
  rssAtBacklogMb: number;
  /** Deliveries that ended FAILED or DISCARDED (retries spent while the receiver was down). */
  lost: number;
}

const STATUSES = ['PENDING', 'IN_FLIGHT', 'AWAITING_RETRY', 'SUCCEEDED', 'FAILED', 'DISCARDED'] as const;

/** Deliveries of the webhook by status, from the API. */
async function deliveriesByStatus(url: string, webhookId: string): Promise<Record<string, number>> {
  const fields = STATUSES.map(
    (s) => `${s}: deliveries(webhookId: $w, status: [${s}], first: 1) { totalCount }`,
  );
  const data = await gql(url, `query($w: ID!) { ${fields.join(' ')} }`, { w: webhookId });
  return Object.fromEntries(STATUSES.map((s) => [s, data[s].totalCount as number]));
}

const lostOf = (byStatus: Record<string, number>) => (byStatus.FAILED ?? 0) + (byStatus.DISCARDED ?? 0);

const mb = (bytes: number) => round(bytes / 2 ** 20, 0);

export async function hooklineBacklog(
  adminUrl: string,
  receiver: ReceiverProcess,
  events: number,
  env: Record<string, string> = {},
  drainLimitMs = 900_000,
): Promise<Backlog> {
  const database = await freshDatabase(adminUrl);
  const hookline = await startHookline(database.url, env);
  const rssAtStart = hookline.rss();
  try {
    await receiver.reset();
    await receiver.down();
    const {
      createWebhook: { id: webhookId },
    } = await gql(
      hookline.url,
      `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`,
      {
        input: {
          name: 'bench-backlog',
          webhookType: 'GENERIC',
          eventFilters: [{ eventTypes: ['bench.backlog'] }],
          config: { endpoint: `${receiver.url}/backlog`, secretKey: SECRET },
          retryPolicy: { scheduleSeconds: Array.from({ length: 20 }, () => 1) },
        },
      },
    );
    const started = Date.now();
    await publishInBatches(hookline.url, events, 1000, (i) => ({
      eventType: 'bench.backlog',
      entityId: `e-${i}`,
      data: { n: i, note: 'a payload of ordinary size for a webhook event' },
    }));
    const published = Date.now();
    const rssAtBacklog = hookline.rss();
    const atUp = await deliveriesByStatus(hookline.url, webhookId);
    const attemptsBeforeUp = await metricSum(hookline.url, 'hookline_delivery_attempts_total');
    await receiver.up();
    const up = Date.now();
    // Every delivery arrives, unless its retries ran out while the receiver was down; a drain
    // slower than `drainLimitMs` is reported as far as it got.
    let lost = lostOf(atUp);
    let complete = false;
    const deadline = up + drainLimitMs;
    while (!complete && Date.now() < deadline) {
      complete = await receiver.waitFor(events - lost, 10_000).then(
        () => true,
        () => false,
      );
      if (!complete) lost = await deliveriesByStatus(hookline.url, webhookId).then(lostOf, () => lost);
    }
    const { last, count } = await receiver.stats();
    lost = lostOf(await deliveriesByStatus(hookline.url, webhookId));
    const drainSeconds = (last - up) / 1000;
    return {
      events,
      publishSeconds: round((published - started) / 1000, 2),
      atUp,
      triedBeforeUp: (atUp.AWAITING_RETRY ?? 0) + lostOf(atUp),
      attemptsBeforeUp,
      drained: count,
      complete,
      drainSeconds: round(drainSeconds, 2),
      drainPerSecond: round(count / drainSeconds, 0),
      totalSeconds: round((last - started) / 1000, 2),
      peakRssMb: mb(hookline.peakRss()),
      rssAtStartMb: mb(rssAtStart),
      rssAtBacklogMb: mb(rssAtBacklog),
      lost,
    };
  } finally {
    await receiver.up().catch(() => {});
    await hookline.stop();
    await database.drop();
  }
}
