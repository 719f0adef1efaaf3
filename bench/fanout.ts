// Scenario 3, fan-out: one event matched by 1,000 webhooks; the time from the publish to the
// last of the 1,000 receipts.
import {
  createWebhooksInBatches,
  freshDatabase,
  gql,
  type ReceiverProcess,
  round,
  startHookline,
} from './lib.js';

export interface FanOut {
  webhooks: number;
  allReceivedMs: number;
  firstReceivedMs: number;
}

export async function hooklineFanOut(
  adminUrl: string,
  receiver: ReceiverProcess,
  webhooks: number,
): Promise<FanOut> {
  const database = await freshDatabase(adminUrl);
  const hookline = await startHookline(database.url);
  try {
    await createWebhooksInBatches(hookline.url, webhooks, (i) => ({
      name: `fan-${i}`,
      webhookType: 'GENERIC',
      eventFilters: [{ eventTypes: ['bench.fanout'] }],
      config: { endpoint: `${receiver.url}/fan/${i}` },
    }));
    await receiver.reset();
    const started = Date.now();
    await gql(hookline.url, `mutation($input: PublishEventInput!) { publishEvent(input: $input) { id } }`, {
      input: { eventType: 'bench.fanout', data: { sentAt: started } },
    });
    await receiver.waitFor(webhooks, 120_000);
    const { first, last } = await receiver.stats();
    return { webhooks, allReceivedMs: round(last - started, 0), firstReceivedMs: round(first - started, 0) };
  } finally {
    await hookline.stop();
    await database.drop();
  }
}
