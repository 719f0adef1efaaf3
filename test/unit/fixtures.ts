import type { HooklineEvent } from '../../src/core/event.js';
import { renderers } from '../../src/providers/index.js';
import type { RenderInput } from '../../src/providers/renderer.js';
import { defaults, type Webhook, type WebhookType } from '../../src/core/webhook.js';

/** Fixed ids and times, so that rendered bodies can be compared whole. */
export const EVENT_ID = '01900000-0000-7000-8000-000000000001';
export const NOW = new Date('2026-03-05T10:23:05.000Z');
export const TABLE_URL = 'https://catalog.example.com/table/t-42';

/** A stored event as the dispatcher hands it to matching and renderers. */
export function makeEvent(overrides: Partial<HooklineEvent> = {}): HooklineEvent {
  return {
    id: EVENT_ID,
    tenantId: 'default',
    eventType: 'entityUpdated',
    entityType: 'table',
    entityId: 't-42',
    entityFqn: 'snowflake_prod.sales.public.customers',
    cluster: 'prod',
    namespace: 'sales',
    actor: { name: 'john.doe', roles: ['DataSteward'] },
    level: 'WARN',
    changedFields: [
      { name: 'tags', oldValue: [], newValue: [{ tagFQN: 'PII.Sensitive' }] },
      { name: 'retention', oldValue: '30d', newValue: '90d' },
    ],
    data: { url: TABLE_URL, description: 'Customer information table' },
    occurredAt: new Date('2026-03-05T10:23:00.000Z'),
    createdAt: new Date('2026-03-05T10:23:01.000Z'),
    idempotencyKey: null,
    traceparent: null,
    ...overrides,
  };
}

/** A stored webhook with the defaults createWebhook gives. */
export function makeWebhook(
  overrides: Partial<Webhook> = {},
  config: Partial<Webhook['config']> = {},
): Webhook {
  return {
    id: '01900000-0000-7000-8000-0000000000aa',
    tenantId: 'default',
    name: 'alerts',
    displayName: null,
    description: null,
    webhookType: 'GENERIC',
    status: 'ACTIVE',
    enabled: true,
    batchSize: 1,
    rateLimit: null,
    fifo: false,
    eventFilters: [],
    eventsPolicy: null,
    minLevel: null,
    config: {
      endpoint: 'https://hooks.example.com/in',
      headers: [],
      timeoutMs: defaults.timeoutMs,
      secretFrom: null,
      httpAuthType: 'NONE',
      httpAuthUsername: null,
      allowInvalidCerts: false,
      xSignature: false,
      sendToAdmins: false,
      sendToOwners: false,
      sendToFollowers: false,
      template: null,
      ...config,
    },
    hasSecret: false,
    retryPolicy: { ...defaults.retryPolicy },
    failureDetails: null,
    owner: null,
    tags: [],
    domain: null,
    global: false,
    personal: false,
    verbosity: null,
    versionSeq: 1,
    changeDescription: null,
    deleted: false,
    createdAt: new Date('2026-01-01T00:00:00.000Z'),
    updatedAt: new Date('2026-01-01T00:00:00.000Z'),
    updatedBy: 'admin',
    ...overrides,
  };
}

/** Renders `events` for a webhook of `type` exactly as the dispatcher would, and parses the body. */
export function render(
  type: WebhookType,
  events: HooklineEvent[] = [makeEvent()],
  input: Partial<Omit<RenderInput, 'events'>> = {},
) {
  const webhook = input.webhook ?? makeWebhook({ webhookType: type, batchSize: events.length > 1 ? 100 : 1 });
  const rendered = renderers[type]({
    webhook,
    events,
    now: NOW,
    secret: null,
    maxBytes: 1024 * 1024,
    preview: false,
    ...input,
  });
  return { ...rendered, json: JSON.parse(rendered.body) as any };
}

/** `n` events about different tables, for batches. */
export const manyEvents = (n: number, extra: (i: number) => Partial<HooklineEvent> = () => ({})) =>
  Array.from({ length: n }, (_, i) =>
    makeEvent({
      id: `01900000-0000-7000-8000-${String(i).padStart(12, '0')}`,
      entityId: `t-${i}`,
      entityFqn: `sales.table${i}`,
      data: { url: `https://catalog.example.com/table/table${i}` },
      ...extra(i),
    }),
  );
