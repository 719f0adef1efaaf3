import assert from 'node:assert/strict';
import { makeWebhookInput } from './factories.js';
import { eventually, type Receiver, startReceiver } from './receiver.js';
import type { TestServer } from './server.js';

/** Creates a webhook through the API and returns its id. */
export async function createWebhook(
  server: TestServer,
  overrides: Record<string, unknown> = {},
): Promise<string> {
  const res = await server.gql(
    `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`,
    {
      input: makeWebhookInput({ eventFilters: [], ...overrides }),
    },
  );
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
  return res.data.createWebhook.id;
}

export interface PublishedEvent {
  id: string;
  deliveries: { id: string; webhook: { id: string } }[];
}

export async function publish(server: TestServer, input: Record<string, unknown>): Promise<PublishedEvent> {
  const res = await server.gql(
    `mutation($input: PublishEventInput!) { publishEvent(input: $input) { id deliveries { id webhook { id } } } }`,
    { input },
  );
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
  return res.data.publishEvent;
}

export const DELIVERY_FIELDS = `
  id status attemptCount nextAttemptAt lastStatusCode lastError createdAt completedAt
  event { id eventType }
  webhook { id status failureDetails { lastFailedAt lastFailedStatusCode lastFailedReason nextAttempt } }
  attempts { id attemptNumber status startedAt durationMs requestUrl requestHeaders requestBody
    responseStatus responseHeaders responseBody errorKind errorMessage }
`;

export async function getDelivery(server: TestServer, id: string): Promise<any> {
  const res = await server.gql(`query($id: ID!) { delivery(id: $id) { ${DELIVERY_FIELDS} } }`, { id });
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
  return res.data.delivery;
}

/** Waits until the delivery satisfies `predicate` (bounded), and returns it. */
export function deliveryWhen(
  server: TestServer,
  id: string,
  predicate: (d: any) => boolean,
  timeoutMs = 15_000,
) {
  return eventually(
    async () => {
      const d = await getDelivery(server, id);
      return predicate(d) ? d : undefined;
    },
    timeoutMs,
    `delivery ${id} to reach the expected state`,
  );
}

/**
 * A real receiver and a webhook of `webhookType` sending to it (at `path`), that gets only the
 * entityUpdated events of tables in `cluster`; `overrides.config` adds to the config.
 */
export async function platformWebhook(
  server: TestServer,
  receivers: Receiver[],
  webhookType: string,
  path: string,
  cluster: string,
  overrides: Record<string, unknown> = {},
): Promise<Receiver> {
  const receiver = await startReceiver();
  receivers.push(receiver);
  const { config, ...rest } = overrides;
  await createWebhook(server, {
    webhookType,
    config: { endpoint: `${receiver.url}${path}`, ...(config as object | undefined) },
    eventFilters: [{ eventTypes: ['entityUpdated'], entities: ['table'], clusters: [cluster] }],
    ...rest,
  });
  return receiver;
}
