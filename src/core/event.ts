import type { EventLevel } from './webhook.js';

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
  /** The W3C traceparent of the publish when tracing was on: the deliveries' requests continue its trace. */
  traceparent: string | null;
}

/** What a producer hands in; the publisher adds id, tenant, times and the trace. */
export type NewEvent = Omit<HooklineEvent, 'id' | 'tenantId' | 'createdAt' | 'occurredAt' | 'traceparent'> & {
  occurredAt?: Date | null;
};

export const TEST_EVENT_TYPE = 'hookline.test';

/** Audit records of the API itself (Kpow's audit log); webhooks take them by `verbosity`. */
export const AUDIT_MUTATION = 'audit.mutation';
export const AUDIT_QUERY = 'audit.query';
export const isAudit = (eventType: string) => eventType === AUDIT_MUTATION || eventType === AUDIT_QUERY;

/**
 * Operational events: Hookline's own reports on endpoint health. A webhook gets them only when
 * a filter names the type (a `*` filter does not), and none is raised about the delivery of
 * another one, so a failing endpoint can never feed a loop of reports about itself.
 */
export const WEBHOOK_DISABLED = 'webhook.disabled';
export const DELIVERY_FAILING = 'delivery.failing';
export const WEBHOOK_RECOVERED = 'webhook.recovered';
export const isOperational = (eventType: string) =>
  eventType === WEBHOOK_DISABLED || eventType === DELIVERY_FAILING || eventType === WEBHOOK_RECOVERED;

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
    name: WEBHOOK_DISABLED,
    description:
      'A webhook was turned off by the endpoint-health rule (failing for the whole auto-disable window). Sent only to webhooks whose filters name it.',
  },
  {
    name: WEBHOOK_RECOVERED,
    description:
      'A webhook the endpoint-health rule had turned off answered a probe and was turned on again. Sent only to webhooks whose filters name it.',
  },
  {
    name: DELIVERY_FAILING,
    description:
      'A delivery has failed several attempts in a row (HOOKLINE_FAILING_AFTER_ATTEMPTS) or ended FAILED before that. Sent only to webhooks whose filters name it.',
  },
  {
    name: AUDIT_QUERY,
    description:
      'A GraphQL query of the API (a Kpow audit record); sent to webhooks with verbosity QUERIES or ALL.',
  },
];
