/**
 * Hookline's client kit, end to end: creates a webhook, follows its delivery log live, checks
 * the endpoint with testWebhook, publishes events and prints each delivery attempt as it
 * happens. Run it against a Hookline server:
 *
 *   HOOKLINE_URL=http://127.0.0.1:8080 HOOKLINE_TOKEN=… RECEIVER_URL=https://… npx tsx examples/client/main.ts
 *
 * EVENTS (default 3) is how many events to publish, WEBHOOK_SECRET an optional signing secret,
 * KEEP_WEBHOOK=1 keeps the webhook afterwards (it is deleted, with its history, by default).
 */
import { graphql, hookline, type ResultOf } from './graphql.js';

const CreateWebhook = graphql(`
  mutation CreateWebhook($input: CreateWebhookInput!) {
    createWebhook(input: $input) {
      id
      name
      version
      config {
        endpoint
        hasSecret
      }
    }
  }
`);

const DeliveryLogs = graphql(`
  subscription DeliveryLogs($webhookId: ID!) {
    deliveryLogs(webhookId: $webhookId) {
      deliveryId
      attemptNumber
      status
      responseStatus
      durationMs
      errorKind
      errorMessage
    }
  }
`);

const TestWebhook = graphql(`
  mutation TestWebhook($id: ID!) {
    testWebhook(id: $id) {
      id
      status
      lastStatusCode
      lastError
    }
  }
`);

const PublishEvents = graphql(`
  mutation PublishEvents($inputs: [PublishEventInput!]!) {
    publishEvents(inputs: $inputs) {
      id
      eventType
      deliveries {
        id
      }
    }
  }
`);

const DeleteWebhook = graphql(`
  mutation DeleteWebhook($id: ID!) {
    deleteWebhook(id: $id, hard: true)
  }
`);

type Attempt = ResultOf<typeof DeliveryLogs>['deliveryLogs'];
const FINAL = new Set(['SUCCEEDED', 'FAILED', 'DISCARDED']);

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is required`);
    process.exit(2);
  }
  return value;
}

/** What the live log has brought so far, and a bounded wait for what is still to come. */
function inbox() {
  const attempts: Attempt[] = [];
  let failure: unknown = null;
  let wake = () => {};
  return {
    attempts,
    push(a: Attempt) {
      attempts.push(a);
      wake();
    },
    fail(e: unknown) {
      failure = e;
      wake();
    },
    /** True once `done()` holds, false after `timeoutMs`; throws if the subscription failed. */
    async until(done: () => boolean, timeoutMs: number): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (failure) throw failure;
        if (done()) return true;
        const left = deadline - Date.now();
        if (left <= 0) return false;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    },
  };
}

const api = hookline(required('HOOKLINE_URL').replace(/\/$/, ''), required('HOOKLINE_TOKEN'));
const endpoint = required('RECEIVER_URL');
const count = Number(process.env.EVENTS ?? 3);
const timeoutMs = Number(process.env.TIMEOUT_MS ?? 30_000);

const { createWebhook: webhook } = await api.request(CreateWebhook, {
  input: {
    name: `kit-demo-${Date.now().toString(36)}`,
    webhookType: 'GENERIC',
    eventFilters: [{ eventTypes: ['order.paid'] }],
    config: { endpoint, ...(process.env.WEBHOOK_SECRET ? { secretKey: process.env.WEBHOOK_SECRET } : {}) },
  },
});
console.log(
  `webhook ${webhook.id} ${webhook.name} version ${webhook.version} signed=${webhook.config.hasSecret}`,
);

const log = inbox();
const unsubscribe = api.subscribe(
  DeliveryLogs,
  { webhookId: webhook.id },
  (data) => {
    const a = data.deliveryLogs;
    const answer = a.responseStatus === null ? (a.errorKind ?? 'no answer') : `HTTP ${a.responseStatus}`;
    console.log(`attempt ${a.deliveryId} #${a.attemptNumber} ${a.status} ${answer} ${a.durationMs} ms`);
    log.push(a);
  },
  (e) => log.fail(e),
);

let exitCode = 1;
try {
  // A subscription starts listening a moment after it is sent; graphql-ws says nothing when it
  // does. A test delivery seen on the log proves it listens, so nothing published is missed.
  let live = false;
  for (let i = 0; i < 5 && !live; i++) {
    const { testWebhook: test } = await api.request(TestWebhook, { id: webhook.id });
    console.log(`test ${test.id} ${test.status}${test.lastError ? `: ${test.lastError}` : ''}`);
    if (test.status !== 'SUCCEEDED')
      throw new Error(`the endpoint ${endpoint} did not accept the test event`);
    live = await log.until(() => log.attempts.some((a) => a.deliveryId === test.id), 2_000);
  }
  if (!live) throw new Error('the delivery log never showed the test delivery');
  console.log('following deliveryLogs');

  const { publishEvents: events } = await api.request(PublishEvents, {
    inputs: Array.from({ length: count }, (_, i) => ({
      eventType: 'order.paid',
      entityType: 'order',
      entityId: `order-${i + 1}`,
      data: { order: i + 1, total: 10 * (i + 1) },
    })),
  });
  const deliveryIds = events.flatMap((e) => e.deliveries.map((d) => d.id));
  for (const e of events) console.log(`published ${e.id} ${e.eventType} deliveries=${e.deliveries.length}`);

  const finalOf = (id: string) => log.attempts.find((a) => a.deliveryId === id && FINAL.has(a.status));
  await log.until(() => deliveryIds.every(finalOf), timeoutMs);
  const succeeded = deliveryIds.filter((id) => finalOf(id)?.status === 'SUCCEEDED').length;
  console.log(`delivered ${succeeded} of ${deliveryIds.length}`);
  exitCode = succeeded === deliveryIds.length ? 0 : 1;
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
} finally {
  unsubscribe();
  if (process.env.KEEP_WEBHOOK !== '1') {
    await api.request(DeleteWebhook, { id: webhook.id });
    console.log(`deleted ${webhook.id}`);
  }
  await api.close();
}
process.exit(exitCode);
