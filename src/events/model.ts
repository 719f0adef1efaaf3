import type { EventLevel } from '../webhooks/model.js';

export interface EventActor {
  name: string;
  roles: string[];
}

export interface ChangedField {
  name: string;
  oldValue?: unknown;
  newValue?: unknown;
}

export interface HooklineEvent {
  id: string;
  tenantId: string;
  eventType: string;
  entityType: string | null;
  entityId: string | null;
  entityFqn: string | null;
  cluster: string | null;
  namespace: string | null;
  actor: EventActor | null;
  level: EventLevel;
  changedFields: ChangedField[];
  data: unknown;
  occurredAt: Date;
  createdAt: Date;
  idempotencyKey: string | null;
}

/** What a producer hands in; the publisher adds id, tenant and times. */
export type NewEvent = Omit<HooklineEvent, 'id' | 'tenantId' | 'createdAt' | 'occurredAt'> & {
  occurredAt?: Date | null;
};

export const TEST_EVENT_TYPE = 'hookline.test';

/** Audit records of the API itself (Kpow's audit log); webhooks take them by `verbosity`. */
export const AUDIT_MUTATION = 'audit.mutation';
export const AUDIT_QUERY = 'audit.query';
export const isAudit = (eventType: string) => eventType === AUDIT_MUTATION || eventType === AUDIT_QUERY;

/** Wildcards a filter may use for "every event type" (Immuta calls it ALL_NOTIFICATIONS). */
export const ANY_EVENT_TYPE = ['*', 'ALL_NOTIFICATIONS'];

export const builtInEventTypes: { name: string; description: string }[] = [
  { name: 'entityCreated', description: 'An entity was created.' },
  { name: 'entityUpdated', description: 'An entity was changed; changedFields says how.' },
  { name: 'entitySoftDeleted', description: 'An entity was soft deleted: hidden, and restorable.' },
  { name: 'entityDeleted', description: 'An entity was deleted for good.' },
  {
    name: TEST_EVENT_TYPE,
    description: 'Sent by testWebhook to check that an endpoint receives and accepts deliveries.',
  },
  {
    name: AUDIT_MUTATION,
    description: 'A GraphQL mutation of the API (a Kpow audit record); sent to webhooks by their verbosity.',
  },
  {
    name: AUDIT_QUERY,
    description:
      'A GraphQL query of the API (a Kpow audit record); sent to webhooks with verbosity QUERIES or ALL.',
  },
];
