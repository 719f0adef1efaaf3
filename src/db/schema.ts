import { sql } from 'drizzle-orm';
import {
  boolean,
  index,
  integer,
  json,
  jsonb,
  pgTable,
  pgView,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { ChangedField, EventActor } from '../core/event.js';
import type {
  ChangeDescription,
  EventFilter,
  EventsPolicy,
  FailureDetails,
  RetryPolicy,
  StoredConfig,
  WebhookSecrets,
} from '../core/webhook.js';

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
};

export const webhooks = pgTable(
  'webhooks',
  {
    id: uuid('id').primaryKey(),
    tenantId: text('tenant_id').notNull().default('default'),
    name: text('name').notNull(),
    displayName: text('display_name'),
    description: text('description'),
    webhookType: text('webhook_type').notNull(),
    status: text('status').notNull(),
    enabled: boolean('enabled').notNull(),
    batchSize: integer('batch_size').notNull(),
    eventFilters: jsonb('event_filters').$type<EventFilter[]>().notNull(),
    eventsPolicy: jsonb('events_policy').$type<EventsPolicy>(),
    minLevel: text('min_level'),
    config: jsonb('config').$type<StoredConfig>().notNull(),
    // Write-only material kept apart from `config` so that nothing that renders a webhook
    // ever holds it by accident.
    secrets: jsonb('secrets').$type<WebhookSecrets>().notNull().default({}),
    retryPolicy: jsonb('retry_policy').$type<RetryPolicy>().notNull(),
    failureDetails: jsonb('failure_details').$type<FailureDetails>(),
    ownerType: text('owner_type'),
    ownerName: text('owner_name'),
    ownerId: text('owner_id'),
    tags: text('tags')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    // Unions of the filters' event types and entity types ('*' where a filter takes any), kept
    // beside the filters so that a GIN index narrows the webhooks an event can match before
    // the full filters are evaluated.
    matchEventTypes: text('match_event_types')
      .array()
      .notNull()
      .default(sql`'{*}'::text[]`),
    matchEntities: text('match_entities')
      .array()
      .notNull()
      .default(sql`'{*}'::text[]`),
    domain: text('domain'),
    global: boolean('global').notNull().default(false),
    personal: boolean('personal').notNull().default(false),
    verbosity: text('verbosity'),
    /** Requests per second at most, enforced across processes (null: no limit). */
    rateLimit: integer('rate_limit'),
    /** When the rate limit lets the next request start (a GCRA "theoretical arrival time"). */
    rateNextAt: timestamp('rate_next_at', { withTimezone: true, mode: 'date' }),
    /**
     * When a throttled webhook's next window opens (retryPolicy.throttleMs): the claim sends
     * one request only once it has passed and moves it on by throttleMs, under the row lock.
     */
    throttleNextAt: timestamp('throttle_next_at', { withTimezone: true, mode: 'date' }),
    /** One request at a time, in publish order; a retrying delivery holds back the later ones. */
    fifo: boolean('fifo').notNull().default(false),
    versionSeq: integer('version_seq').notNull().default(1),
    changeDescription: jsonb('change_description').$type<ChangeDescription>(),
    deleted: boolean('deleted').notNull().default(false),
    updatedBy: text('updated_by').notNull(),
    ...timestamps,
  },
  (t) => [
    // Soft-deleted webhooks keep their name, as in OpenMetadata, so a restore never collides.
    uniqueIndex('webhooks_tenant_name_key').on(t.tenantId, t.name),
    index('webhooks_tenant_status_idx').on(t.tenantId, t.status),
    index('webhooks_tags_idx').using('gin', t.tags),
    index('webhooks_match_event_types_idx').using('gin', t.matchEventTypes),
    index('webhooks_match_entities_idx').using('gin', t.matchEntities),
    // The audit record of every mutation reads a tenant's auditing webhooks: few, however
    // many webhooks the tenant has (a scan of all of them cost 5 ms at 10,000).
    // The webhooks of the people an event notifies (sendToAdmins/Owners/Followers), by name.
    index('webhooks_user_owner_idx')
      .on(t.tenantId, t.ownerName)
      .where(sql`${t.ownerType} = 'user'`),
    index('webhooks_auditors_idx')
      .on(t.tenantId)
      .where(sql`${t.verbosity} is not null`),
  ],
);

export const webhookVersions = pgTable(
  'webhook_versions',
  {
    webhookId: uuid('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    versionSeq: integer('version_seq').notNull(),
    /** The webhook as a client saw it at that version (no secrets). */
    snapshot: jsonb('snapshot').$type<Record<string, unknown>>().notNull(),
    changeDescription: jsonb('change_description').$type<ChangeDescription>(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
    updatedBy: text('updated_by').notNull(),
  },
  (t) => [primaryKey({ columns: [t.webhookId, t.versionSeq] })],
);

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuid('id').primaryKey(),
    tenantId: text('tenant_id').notNull().default('default'),
    name: text('name').notNull(),
    role: text('role').notNull(),
    /** SHA-256 of the token; the token itself is shown once and never stored. */
    tokenHash: text('token_hash').notNull(),
    bootstrap: boolean('bootstrap').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    uniqueIndex('api_tokens_hash_key').on(t.tokenHash),
    // At most one live bootstrap token, so concurrent first starts cannot both mint one.
    uniqueIndex('api_tokens_one_bootstrap_key')
      .on(t.bootstrap)
      .where(sql`${t.bootstrap} and ${t.revokedAt} is null`),
  ],
);

/**
 * Partitioned by day of `id` (UUIDv7, so its first 48 bits are the creation time): retention
 * drops whole days (see src/db/retention.ts). The key holds tenant_id so the table
 * could be distributed by tenant. An idempotency key is unique per day partition by an index
 * each partition gets; the publish checks the older days itself.
 */
export const events = pgTable(
  'events',
  {
    id: uuid('id').notNull(),
    tenantId: text('tenant_id').notNull(),
    eventType: text('event_type').notNull(),
    entityType: text('entity_type'),
    entityId: text('entity_id'),
    entityFqn: text('entity_fqn'),
    cluster: text('cluster'),
    namespace: text('namespace'),
    // json, not jsonb: kept as the text published (its key order is the one every request of
    // the event carries), stored without being parsed into a tree, and returned as it is.
    actor: json('actor').$type<EventActor>(),
    level: text('level').notNull(),
    changedFields: json('changed_fields').$type<ChangedField[]>().notNull(),
    data: json('data'),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    idempotencyKey: text('idempotency_key'),
    /** The W3C traceparent of the publish (when tracing is on): its deliveries' requests continue it. */
    traceparent: text('traceparent'),
  },
  (t) => [primaryKey({ name: 'events_pkey', columns: [t.id, t.tenantId] })],
);

/** Every event type published so far, for the `eventTypes` query. */
export const eventTypesSeen = pgTable(
  'event_types_seen',
  {
    tenantId: text('tenant_id').notNull(),
    name: text('name').notNull(),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.name] })],
);

const deliveryColumns = {
  id: uuid('id').notNull(),
  tenantId: text('tenant_id').notNull(),
  eventId: uuid('event_id').notNull(),
  webhookId: uuid('webhook_id').notNull(),
  status: text('status').notNull(),
  attemptCount: integer('attempt_count').notNull().default(0),
  /** Attempts made before the current retry schedule began (a manual retry starts it anew). */
  scheduleStart: integer('schedule_start').notNull().default(0),
  /** Where discardAfterSeconds counts from: creation, or the last manual retry or replay. */
  discardFrom: timestamp('discard_from', { withTimezone: true, mode: 'date' }),
  /** When the next attempt is due; null once the delivery is finished. */
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }),
  /** An IN_FLIGHT delivery whose lease has passed belongs to whichever dispatcher claims it next. */
  leaseUntil: timestamp('lease_until', { withTimezone: true, mode: 'date' }),
  leasedBy: text('leased_by'),
  lastStatusCode: integer('last_status_code'),
  lastError: text('last_error'),
  ...timestamps,
  completedAt: timestamp('completed_at', { withTimezone: true, mode: 'date' }),
};

/**
 * Open deliveries (PENDING, AWAITING_RETRY, IN_FLIGHT): a small, hot table. A claim sets
 * status and lease, which no index covers, and half of each page is kept free for it
 * (fillfactor 50, set by migration 0014), so PostgreSQL updates the row in place (HOT); a
 * finished delivery leaves for `delivery_history`.
 */
export const deliveryQueue = pgTable(
  'delivery_queue',
  // No foreign key to webhooks: its check cost a lookup and a row lock per delivery published.
  // A hard delete removes the webhook's queued deliveries itself.
  deliveryColumns,
  (t) => [
    primaryKey({ name: 'delivery_queue_pkey', columns: [t.id, t.tenantId] }),
    // The claim: per webhook, its deliveries in due order; and the webhooks that have any.
    index('delivery_queue_webhook_due_idx').on(t.webhookId, t.nextAttemptAt, t.id),
    // When the next retry is due, across webhooks.
    index('delivery_queue_due_idx').on(t.nextAttemptAt),
  ],
);

/**
 * Finished deliveries, written once, partitioned by day of `id` like `events`: retention drops
 * whole days.
 */
export const deliveryHistory = pgTable('delivery_history', deliveryColumns, (t) => [
  primaryKey({ name: 'delivery_history_pkey', columns: [t.id, t.tenantId] }),
  index('delivery_history_webhook_idx').on(t.webhookId, t.id),
  index('delivery_history_event_idx').on(t.eventId),
]);

/** Every delivery, open or finished: what the API reads (a view over the queue and the history). */
export const deliveries = pgView('deliveries', deliveryColumns).existing();

/**
 * Attempts, written once, partitioned by day of `id`. The request body is stored on a
 * delivery's first attempt only (null on the others): a retry sends the same event again.
 */
export const deliveryAttempts = pgTable(
  'delivery_attempts',
  {
    id: uuid('id').notNull(),
    tenantId: text('tenant_id').notNull(),
    deliveryId: uuid('delivery_id').notNull(),
    webhookId: uuid('webhook_id').notNull(),
    attemptNumber: integer('attempt_number').notNull(),
    /** The delivery's status once this attempt was recorded. */
    status: text('status').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }).notNull(),
    durationMs: integer('duration_ms').notNull(),
    requestUrl: text('request_url').notNull(),
    requestHeaders: jsonb('request_headers').$type<Record<string, string>>().notNull(),
    requestBody: text('request_body'),
    responseStatus: integer('response_status'),
    responseHeaders: jsonb('response_headers').$type<Record<string, string>>(),
    responseBody: text('response_body'),
    errorKind: text('error_kind'),
    errorMessage: text('error_message'),
  },
  (t) => [
    primaryKey({ name: 'delivery_attempts_pkey', columns: [t.id, t.tenantId] }),
    index('delivery_attempts_delivery_idx').on(t.deliveryId, t.attemptNumber),
    // The error rate of a webhook over the auto-disable window.
    index('delivery_attempts_webhook_started_idx').on(t.webhookId, t.startedAt),
  ],
);

/** Who runs the periodic upkeep (retention), so that one process at a time does. */
export const maintenanceLeases = pgTable('maintenance_leases', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  until: timestamp('until', { withTimezone: true, mode: 'date' }).notNull(),
});
