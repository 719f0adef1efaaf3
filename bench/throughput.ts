// Scenario 1, throughput: N events to one GENERIC signed webhook (and to 50 webhooks), published
// through publishEvents in batches of 500; deliveries per second from the first publish to the
// last receipt. The limit (plain undici, no persistence) runs against the same receiver.
import { Agent, request } from 'undici';
import {
  freshDatabase,
  gql,
  publishInBatches,
  type ReceiverProcess,
  round,
  SECRET,
  startHookline,
} from './lib.js';

export interface Throughput {
  deliveries: number;
  seconds: number;
  perSecond: number;
}

const eventInput = (i: number, webhooks: number) => ({
  eventType: 'bench.throughput',
  entityType: `t${i % webhooks}`,
  entityId: `e-${i}`,
  data: { n: i, note: 'a payload of ordinary size for a webhook event' },
});

/** Hookline: one process (API and dispatcher), `webhooks` webhooks sharing the events. */
export async function hooklineThroughput(
  adminUrl: string,
  receiver: ReceiverProcess,
  events: number,
  webhooks: number,
  env: Record<string, string> = {},
): Promise<Throughput> {
  const database = await freshDatabase(adminUrl);
  const hookline = await startHookline(database.url, env);
  try {
    for (let i = 0; i < webhooks; i++) {
      await gql(
        hookline.url,
        `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`,
        {
          input: {
            name: `bench-${i}`,
            webhookType: 'GENERIC',
            eventFilters: [{ eventTypes: ['bench.throughput'], entities: [`t${i}`] }],
            config: { endpoint: `${receiver.url}/w${i}`, secretKey: SECRET },
          },
        },
      );
    }
    await receiver.reset();
    const started = Date.now();
    await publishInBatches(hookline.url, events, 500, (i) => eventInput(i, webhooks));
    await receiver.waitFor(events, 600_000);
    const { last } = await receiver.stats();
    const seconds = (last - started) / 1000;
    return { deliveries: events, seconds: round(seconds, 2), perSecond: round(events / seconds, 0) };
  } finally {
    await hookline.stop();
    await database.drop();
  }
}

/** The physical ceiling: the same number of POSTs of a like body, 64 at a time, nothing stored. */
export async function undiciLimit(receiver: ReceiverProcess, events: number): Promise<Throughput> {
  const agent = new Agent({ connections: 64, keepAliveTimeout: 30_000 });
  const body = JSON.stringify({
    eventId: 'evt_01a20000-0000-7000-8000-000000000000',
    ...eventInput(0, 1),
  });
  await receiver.reset();
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < events) {
      next++;
      const res = await request(`${receiver.url}/limit`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        dispatcher: agent,
      });
      await res.body.dump();
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  const seconds = (Date.now() - started) / 1000;
  await agent.close();
  return { deliveries: events, seconds: round(seconds, 2), perSecond: round(events / seconds, 0) };
}
