import { sql } from 'drizzle-orm';
import {
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type {
  ChangeDescription,
  EventFilter,
  EventsPolicy,
  FailureDetails,
  RetryPolicy,
  StoredConfig,
  WebhookSecrets,
} from '../webhooks/model.js';

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
    domain: text('domain'),
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
