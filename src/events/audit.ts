import type { Principal } from '../core/principal.js';
import type { Tracing } from '../tracing/tracing.js';
import type { Database } from '../db/client.js';
import { newId } from '../ids.js';
import { readWebhooks, type WebhookSource } from '../webhooks/cache.js';
import { auditTypesFor } from '../core/matching.js';
import { AUDIT_MUTATION, AUDIT_QUERY } from '../core/event.js';
import { publishIn } from './publish.js';
import { requiredAction } from './remedy.js';

/** Kpow's audit record (the JSON Schema in its webhook documentation). */
export interface AuditRecord {
  via: 'api' | 'ui';
  cluster_id: string;
  is_staged: boolean;
  request_type: 'kpow' | 'flex' | 'platform';
  ts: number;
  id: string;
  tenant_id: string;
  subjects: string[];
  event_type: string;
  user: { name: string; roles: string[] };
  resource_id: string;
  // Kpow's `schedule` (a staged mutation's prerequisite, expiry and state) is never set:
  // Hookline runs every mutation at once, so there is nothing staged to describe.
  error?: { type: string; message: string; required_action?: string };
}

export interface AuditEntry {
  principal: Principal;
  kind: 'mutation' | 'query';
  via: 'api' | 'ui';
  /** The root fields of the operation, e.g. ['createWebhook']. */
  fields: string[];
  /** The id the operation was about, when it names one. */
  resourceId: string | null;
  /** The first error of a refused operation; `extensions` are the GraphQL error's. */
  error: { type: string; message: string; extensions?: Record<string, unknown> } | null;
}

export type AuditLog = ReturnType<typeof createAuditLog>;

function auditError({ type, message, extensions }: NonNullable<AuditEntry['error']>): AuditRecord['error'] {
  const action = requiredAction(type, extensions ?? {});
  return { type, message, ...(action ? { required_action: action } : {}) };
}

/**
 * Publishes every mutation, and each query when some webhook of the tenant asks for queries
 * (known from the process's cache of audit webhooks, so a query costs no read to find out),
 * as an audit event whose data is a Kpow audit record. Only names and ids go in: never
 * variables or results, so a secret sent in a mutation cannot reach an audit webhook.
 */
export function createAuditLog({
  database,
  clusterId,
  webhooks,
  tracing = null,
}: {
  database: Database;
  clusterId: string;
  /** The process's cache of the webhooks publishes match. */
  webhooks?: WebhookSource;
  /** A span per audit record's publish (null: tracing is off). */
  tracing?: Tracing | null;
}) {
  const source = webhooks ?? readWebhooks(database.db);
  return {
    async record(entry: AuditEntry): Promise<void> {
      const { principal } = entry;
      if (entry.kind === 'query') {
        const auditors = await source.auditors(principal.tenantId);
        if (!auditors.some(({ webhook }) => auditTypesFor(webhook.verbosity).includes(AUDIT_QUERY))) return;
      }
      const now = new Date();
      const record: AuditRecord = {
        via: entry.via,
        cluster_id: clusterId,
        is_staged: false,
        request_type: 'platform',
        ts: now.getTime(),
        id: newId(),
        tenant_id: principal.tenantId,
        subjects: entry.fields,
        event_type: entry.fields[0] ?? entry.kind,
        user: { name: principal.name, roles: [principal.role] },
        resource_id: entry.resourceId ?? '',
        ...(entry.error ? { error: auditError(entry.error) } : {}),
      };
      await publishIn(
        database.db,
        principal.tenantId,
        [
          {
            eventType: entry.kind === 'mutation' ? AUDIT_MUTATION : AUDIT_QUERY,
            entityType: 'graphql',
            entityId: record.resource_id || null,
            entityFqn: record.event_type,
            cluster: clusterId,
            namespace: null,
            actor: record.user,
            level: entry.error ? 'WARN' : 'INFO',
            changedFields: [],
            data: record,
            occurredAt: now,
            idempotencyKey: null,
          },
        ],
        now,
        { webhooks: source, tracing },
      );
    },
  };
}
