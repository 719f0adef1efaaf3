let counter = 0;

/** A valid CreateWebhookInput; each call gets a unique name unless one is given. */
export function makeWebhookInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter += 1;
  return {
    name: `hook-${process.pid}-${counter}`,
    webhookType: 'GENERIC',
    description: 'sends table changes',
    eventFilters: [{ eventTypes: ['entityCreated'], entities: ['table'] }],
    config: { endpoint: 'https://receiver.example.com/hooks' },
    ...overrides,
  };
}

export const WEBHOOK_FIELDS = `
  id name fullyQualifiedName displayName description webhookType status enabled batchSize
  eventFilters { eventTypes entities clusters namespaces include exclude }
  eventsPolicy { mode eventTypes } minLevel
  config {
    endpoint headers { name value secret } timeoutMs hasSecret secretFrom { env file }
    httpAuthType httpAuthUsername allowInvalidCerts sendToAdmins sendToOwners sendToFollowers template
  }
  retryPolicy { scheduleSeconds maxAttempts discardAfterSeconds lossy throttleMs }
  failureDetails { lastFailedAt lastFailedStatusCode lastFailedReason nextAttempt }
  owner { id type name } tags { tagFQN } domain version createdAt updatedAt updatedBy href deleted
  changeDescription { previousVersion fieldsAdded { name oldValue newValue }
    fieldsUpdated { name oldValue newValue } fieldsDeleted { name oldValue newValue } }
`;

export const TABLE_URL = 'https://catalog.example.com/table/snowflake_prod.sales.public.customers';

/**
 * A realistic change to a table for the platform formats: who, when, two changed fields, a
 * description and a link; `cluster` keeps each test's webhook to its own events.
 */
export const tableUpdated = (
  cluster: string,
  overrides: Record<string, unknown> = {},
  data: Record<string, unknown> = { url: TABLE_URL, description: 'Customer information table' },
) => ({
  eventType: 'entityUpdated',
  entityType: 'table',
  entityId: 't-42',
  entityFqn: 'snowflake_prod.sales.public.customers',
  cluster,
  namespace: 'sales',
  actor: { name: 'john.doe', roles: ['DataSteward'] },
  level: 'WARN',
  occurredAt: '2026-03-05T10:23:00Z',
  changedFields: [
    { name: 'tags', oldValue: [], newValue: [{ tagFQN: 'PII.Sensitive' }] },
    { name: 'retention', oldValue: '30d', newValue: '90d' },
  ],
  data,
  ...overrides,
});
